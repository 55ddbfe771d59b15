package catalog

import (
	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// portalMessages are the seller portal's page messages in French and Simplified Chinese, added
// to the server's shared catalogue by Routes. Messages that the storefront also translates
// carry the same words here, so whichever slice sets them last changes nothing;
// TestPortalMessagesTranslated keeps the templates and this table in step.
var portalMessages = map[string]struct{ fr, zh string }{
	// The limits are MaxListingImages and MaxImageBytes, filled in by the form.
	"1 to %d JPEG, PNG or WebP photos of the item itself, up to %d MB each; the first is the main one": {
		"1 à %d photos JPEG, PNG ou WebP de l'article lui-même, %d Mo au plus chacune ; la première est la principale",
		"1 至 %d 张商品本身的 JPEG、PNG 或 WebP 照片，每张不超过 %d MB；第一张为主图"},
	"All":               {"Toutes", "全部"},
	"Uploading…":        {"Envoi en cours…", "正在上传…"},
	"larger than %d MB": {"plus de %d Mo", "超过 %d MB"},
	"at most %d photos": {"%d photos au plus", "最多 %d 张照片"},
	"An analyst is looking at this listing before fans can see it.": {
		"Un analyste examine cette annonce avant que les fans puissent la voir.", "分析师正在审核此商品，审核通过后粉丝才能看到。"},
	"By status":   {"Par statut", "按状态"},
	"Cancel":      {"Annuler", "取消"},
	"Created":     {"Créée le", "创建时间"},
	"Currency":    {"Devise", "货币"},
	"Description": {"Description", "商品描述"},
	"Detail":      {"Détail", "详情"},
	"Every listing is checked before fans can see it: against the official catalogue, the licences and known counterfeits.": {
		"Chaque annonce est vérifiée avant que les fans puissent la voir : avec le catalogue officiel, les licences et les contrefaçons connues.",
		"每件商品在粉丝看到之前都会经过核查：比对官方目录、授权和已知假货。"},
	"Fans can see and buy this listing.": {"Les fans peuvent voir et acheter cette annonce.", "粉丝可以查看并购买此商品。"},
	"How many":                           {"Quantité", "数量"},
	"Import a catalogue":                 {"Importer un catalogue", "导入商品目录"},
	"List an item":                       {"Mettre un article en vente", "发布商品"},
	"Listing":                            {"Annonce", "商品"},
	"More listings":                      {"Plus d'annonces", "更多商品"},
	"My listings":                        {"Mes annonces", "我的商品"},
	"New listing":                        {"Nouvelle annonce", "发布新商品"},
	"No listing yet.":                    {"Aucune annonce pour l'instant.", "暂无商品。"},
	"No rule raised a concern.":          {"Aucune règle n'a relevé de problème.", "没有规则发现问题。"},
	"Official SKU":                       {"Référence officielle (SKU)", "官方 SKU"},
	"Pending listings are being checked; only live ones are shown to fans.": {
		"Les annonces en attente sont en cours de vérification ; seules les annonces en ligne sont montrées aux fans.",
		"待审核的商品正在核查中；只有已上架的商品会展示给粉丝。"},
	"Photo":  {"Photo", "照片"},
	"Photos": {"Photos", "照片"},
	"Photos that resemble reference pictures": {"Photos qui ressemblent à des images de référence", "与参考图片相似的照片"},
	"Price":                              {"Prix", "价格"},
	"Products":                           {"Produits", "商品"},
	"Property":                           {"Propriété", "赛事品牌"},
	"Reason":                             {"Motif", "原因"},
	"Rule":                               {"Règle", "规则"},
	"Score":                              {"Score", "分数"},
	"Seller portal":                      {"Espace vendeur", "卖家中心"},
	"Ships from":                         {"Expédié depuis", "发货地"},
	"Ships to":                           {"Livraison", "配送至"},
	"Status":                             {"Statut", "状态"},
	"Submit for checking":                {"Envoyer pour vérification", "提交审核"},
	"This listing may not be sold here.": {"Cette annonce ne peut pas être vendue ici.", "此商品不得在本店销售。"},
	"This listing was taken down.":       {"Cette annonce a été retirée.", "此商品已被下架。"},
	"Title":                              {"Titre", "标题"},
	"We are checking this listing. It is not shown to fans until the check is done, usually within a minute.": {
		"Nous vérifions cette annonce. Elle n'est pas montrée aux fans avant la fin de la vérification, en général en moins d'une minute.",
		"我们正在核查此商品。核查完成前不会展示给粉丝，通常在一分钟内完成。"},
	"Weight":                                 {"Poids", "权重"},
	"What the check found":                   {"Ce que la vérification a trouvé", "核查结果"},
	"condition, size, where it comes from":   {"état, taille, provenance", "成色、尺寸、来源"},
	"country codes such as FR, BE, or WORLD": {"codes pays comme FR, BE, ou WORLD", "国家代码，如 FR、BE 或 WORLD"},
	"distance":                               {"distance", "距离"},
	"optional: the official product you sell, as printed on its label": {
		"facultatif : le produit officiel que vous vendez, tel qu'imprimé sur son étiquette", "可选：您出售的官方商品，与标签上印的一致"},
	"photo":         {"photo", "照片"},
	"seller":        {"vendeur", "卖家"},
	"such as 25.00": {"par exemple 25.00", "例如 25.00"},
	"suspended":     {"suspendu", "已暂停"},
	"verdict":       {"verdict", "结论"},
}

// addPortalMessages adds the portal's translations to the server's catalogue.
func addPortalMessages(b *catalog.Builder) error {
	for key, t := range portalMessages {
		if err := b.SetString(language.French, key, t.fr); err != nil {
			return err
		}
		if err := b.SetString(language.SimplifiedChinese, key, t.zh); err != nil {
			return err
		}
	}
	return nil
}
