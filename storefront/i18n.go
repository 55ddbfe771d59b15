package storefront

import (
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// The storefront's message catalogues. Pages are written in English; each message here has its
// French and Simplified Chinese translation, added to the server's shared catalogue by Routes
// (the layout's messages are here too, since the storefront is where fans read them). A
// message without a translation shows in English; TestEveryMessageIsTranslated keeps the
// templates' messages and this table in step.

// translation is one message in French and Simplified Chinese.
type translation struct{ fr, zh string }

// categoryName is a category in the three page languages.
type categoryName struct{ en, fr, zh string }

// categoryNames name licensing's categories for fans.
var categoryNames = map[string]categoryName{
	"apparel":        {"Clothing", "Vêtements", "服装"},
	"headwear":       {"Caps & hats", "Casquettes et bonnets", "帽子"},
	"footwear":       {"Footwear", "Chaussures", "鞋袜"},
	"bags":           {"Bags", "Sacs", "箱包"},
	"accessories":    {"Accessories", "Accessoires", "配饰"},
	"pins":           {"Pins & badges", "Pin's et badges", "徽章"},
	"toys":           {"Toys & mascots", "Jouets et mascottes", "玩具与吉祥物"},
	"collectibles":   {"Collectibles", "Objets de collection", "收藏品"},
	"homeware":       {"Home", "Maison", "家居"},
	"stationery":     {"Stationery", "Papeterie", "文具"},
	"jewellery":      {"Jewellery & watches", "Bijoux et montres", "珠宝与手表"},
	"sporting_goods": {"Sporting goods", "Articles de sport", "体育用品"},
}

// messages are the pages' and layout's messages by their English text.
var messages = map[string]translation{
	// layout (internal/web)
	"Official Olympic Store":         {"Boutique olympique officielle", "奥林匹克官方商店"},
	"Skip to content":                {"Aller au contenu", "跳到正文"},
	"Main":                           {"Principal", "主导航"},
	"Shop":                           {"Boutique", "商店"},
	"Verify a product":               {"Vérifier un produit", "验证商品"},
	"Seller portal":                  {"Espace vendeur", "卖家中心"},
	"Review queue":                   {"File d'examen", "审核队列"},
	"Registry":                       {"Registre", "注册管理"},
	"Rules":                          {"Règles", "规则"},
	"Cart":                           {"Panier", "购物车"},
	"Account":                        {"Compte", "账户"},
	"Log out":                        {"Se déconnecter", "退出"},
	"Log in":                         {"Se connecter", "登录"},
	"Register":                       {"Créer un compte", "注册"},
	"Country, currency and language": {"Pays, devise et langue", "国家、货币和语言"},
	"Ship to":                        {"Livrer en", "配送至"},
	"Currency":                       {"Devise", "货币"},
	"Language":                       {"Langue", "语言"},
	"Save":                           {"Enregistrer", "保存"},
	"Every product here is sold under a licence you can check.": {
		"Chaque produit vendu ici l'est sous une licence que vous pouvez vérifier.", "本店每件商品均在可查验的授权下销售。"},
	"Verify a licence or hologram": {"Vérifier une licence ou un hologramme", "验证授权或防伪标"},

	// home
	"Official Olympic merchandise, licensed where you live": {
		"Produits olympiques officiels, sous licence là où vous vivez", "奥林匹克官方商品，在您所在地获得授权"},
	"Everything here is sold under a licence that covers %s today. Prices in %s.": {
		"Tout ce qui est ici est vendu sous une licence valable aujourd'hui pour : %s. Prix en %s.", "此处所有商品今日均获授权在%s销售。价格以%s计。"},
	"Search the store":           {"Rechercher dans la boutique", "搜索商店"},
	"T-shirt, pin, mascot, SKU…": {"T-shirt, pin's, mascotte, référence…", "T恤、徽章、吉祥物、货号…"},
	"Search":                     {"Rechercher", "搜索"},
	"Categories":                 {"Catégories", "分类"},
	"See all (%d)":               {"Tout voir (%d)", "查看全部（%d）"},
	"Nothing is for sale in %s yet.": {
		"Rien n'est encore en vente pour : %s.", "%s暂无在售商品。"},

	// search
	"Search: %s":                    {"Recherche : %s", "搜索：%s"},
	"Results for “%s”":              {"Résultats pour « %s »", "“%s”的搜索结果"},
	"We could not run this search:": {"Nous n'avons pas pu lancer cette recherche :", "无法执行此搜索："},
	"Start a new search":            {"Nouvelle recherche", "重新搜索"},
	"Filters":                       {"Filtres", "筛选"},
	"Games":                         {"Jeux", "赛事"},
	"Category":                      {"Catégorie", "分类"},
	"Licensee":                      {"Licencié", "被授权商"},
	"Price":                         {"Prix", "价格"},
	"Sort by":                       {"Trier par", "排序方式"},
	"Sort":                          {"Trier", "排序"},
	"Relevance":                     {"Pertinence", "相关度"},
	"Price, low to high":            {"Prix croissant", "价格从低到高"},
	"Price, high to low":            {"Prix décroissant", "价格从高到低"},
	"Newest":                        {"Nouveautés", "最新"},
	"Under %s":                      {"Moins de %s", "%s以下"},
	"%s and more":                   {"%s et plus", "%s及以上"},
	"Pages":                         {"Pages", "分页"},
	"Previous":                      {"Précédent", "上一页"},
	"Next":                          {"Suivant", "下一页"},
	"Sold out":                      {"Épuisé", "售罄"},
	"Official":                      {"Officiel", "官方"},
	"There is nothing to search for in “%s”: try a word, a SKU or a barcode.": {
		"Il n'y a rien à chercher dans « %s » : essayez un mot, une référence ou un code-barres.", "“%s”中没有可搜索的内容：请尝试关键词、货号或条形码。"},
	"Nothing matches in %s. Try fewer words or another spelling.": {
		"Aucun résultat pour : %s. Essayez moins de mots ou une autre orthographe.", "在%s没有匹配的商品。请减少关键词或换一种拼写。"},

	// product
	"%s, photo %d":                              {"%s, photo %d", "%s，第%d张图片"},
	"Priced by the seller in %s.":               {"Prix fixé par le vendeur en %s.", "卖家以%s定价。"},
	"In stock: %d":                              {"En stock : %d", "库存：%d"},
	"Quantity":                                  {"Quantité", "数量"},
	"Add to cart":                               {"Ajouter au panier", "加入购物车"},
	"No longer for sale":                        {"Plus en vente", "已停售"},
	"Not sold in your country":                  {"Non vendu dans votre pays", "您所在的国家/地区不销售此商品"},
	"This item is not for sale at the moment.":  {"Cet article n'est pas en vente pour le moment.", "此商品目前不在售。"},
	"The seller does not ship this item to %s.": {"Le vendeur ne livre pas cet article vers : %s.", "卖家不向%s配送此商品。"},
	"No licence covers this item in %s today, so it cannot be sold there.": {
		"Aucune licence ne couvre cet article aujourd'hui pour : %s ; il ne peut donc pas y être vendu.", "今日没有任何授权覆盖此商品在%s的销售，因此不能在当地出售。"},
	"See what is for sale in %s": {"Voir ce qui est en vente pour : %s", "查看%s在售商品"},
	"Licence proof":              {"Preuve de licence", "授权证明"},
	"Licence number":             {"Numéro de licence", "授权编号"},
	"Valid until":                {"Valable jusqu'au", "有效期至"},
	"Sold by":                    {"Vendu par", "卖家"},
	"Check this licence on the verification page": {"Vérifier cette licence sur la page de vérification", "在验证页面查验此授权"},
	"No licence covers this item where you are.":  {"Aucune licence ne couvre cet article là où vous êtes.", "在您所在地没有授权覆盖此商品。"},
	"Description":             {"Description", "商品描述"},
	"Size or colour":          {"Taille ou couleur", "尺码或颜色"},
	"SKU":                     {"Référence", "货号"},
	"Ships from %s to: %s":    {"Expédié depuis %s vers : %s", "从%s发货，配送至：%s"},
	"Report a suspected fake": {"Signaler une contrefaçon présumée", "举报疑似假货"},

	// photo check
	"Check a photo": {"Vérifier une photo", "验证照片"},
	"Seen an Olympic product elsewhere? Upload a photo and we compare it with the official products' pictures and the fakes we know.": {
		"Vous avez vu un produit olympique ailleurs ? Envoyez une photo : nous la comparons aux photos des produits officiels et aux contrefaçons connues.",
		"在别处看到奥运商品？上传照片，我们会将其与官方商品图片及已知仿冒品进行比对。"},
	"Photo":                         {"Photo", "照片"},
	"JPEG, PNG or WebP, up to 8 MB": {"JPEG, PNG ou WebP, 8 Mo au plus", "JPEG、PNG 或 WebP，最大 8 MB"},
	"Check the photo":               {"Vérifier la photo", "验证照片"},
	"Photo checks are not available right now. You can still check a licence number or a hologram serial.": {
		"La vérification de photos est indisponible pour le moment. Vous pouvez toujours vérifier un numéro de licence ou d'hologramme.",
		"照片验证暂不可用。您仍可查验授权编号或防伪标序列号。"},
	"Check a licence number or a hologram serial instead": {"Vérifier plutôt un numéro de licence ou d'hologramme", "改为查验授权编号或防伪标序列号"},
	"matches an official product":                         {"correspond à un produit officiel", "与官方商品相符"},
	"matches a known counterfeit":                         {"correspond à une contrefaçon connue", "与已知仿冒品相符"},
	"no match":                                            {"aucune correspondance", "无匹配"},
	"Product":                                             {"Produit", "商品"},
	"A matching picture does not prove the item in your hands is genuine: check its hologram serial too.": {
		"Une photo qui correspond ne prouve pas que l'article est authentique : vérifiez aussi son numéro d'hologramme.",
		"图片相符并不能证明您手中的商品是正品：请同时查验其防伪标序列号。"},
	"This photo looks like a fake our analysts have already found. Please do not buy it.": {
		"Cette photo ressemble à une contrefaçon déjà repérée par nos analystes. Ne l'achetez pas.", "这张照片与我们的分析师已发现的仿冒品相似。请不要购买。"},
	"We found no official product or known fake that looks like this photo.": {
		"Nous n'avons trouvé aucun produit officiel ni contrefaçon connue qui ressemble à cette photo.", "我们没有找到与此照片相似的官方商品或已知仿冒品。"},
	"Photo checks are not available right now.":     {"La vérification de photos est indisponible pour le moment.", "照片验证暂不可用。"},
	"The photo is larger than 8 MB.":                {"La photo dépasse 8 Mo.", "照片超过 8 MB。"},
	"Choose a photo to upload.":                     {"Choisissez une photo à envoyer.", "请选择要上传的照片。"},
	"This file is not a JPEG, PNG or WebP picture.": {"Ce fichier n'est pas une image JPEG, PNG ou WebP.", "此文件不是 JPEG、PNG 或 WebP 图片。"},

	// licensing's verify page, which fans reach from every product page
	"Type the licence number from the label or the seller's page, or the serial printed on the hologram.": {
		"Saisissez le numéro de licence figurant sur l'étiquette ou la page du vendeur, ou le numéro imprimé sur l'hologramme.",
		"请输入标签或卖家页面上的授权编号，或防伪标上印刷的序列号。"},
	"Licence number or hologram serial": {"Numéro de licence ou d'hologramme", "授权编号或防伪标序列号"},
	"Where are you?":                    {"Où êtes-vous ?", "您在哪里？"},
	"helps us spot copied holograms":    {"nous aide à repérer les hologrammes copiés", "帮助我们识别被复制的防伪标"},
	"I'd rather not say":                {"Je préfère ne pas le dire", "不愿透露"},
	"Check":                             {"Vérifier", "查验"},
	"Licence":                           {"Licence", "授权"},
	"valid":                             {"valide", "有效"},
	"not valid":                         {"non valide", "无效"},
	"Property":                          {"Propriété", "赛事品牌"},
	"Products":                          {"Produits", "商品"},
	"Where":                             {"Où", "地区"},
	"Term":                              {"Durée", "期限"},
	"Status":                            {"Statut", "状态"},
	"Hologram":                          {"Hologramme", "防伪标"},
	"If you bought this here, report the listing from its page so our analysts can look at it.": {
		"Si vous l'avez acheté ici, signalez l'annonce depuis sa page pour que nos analystes l'examinent.", "如果您是在本店购买的，请在商品页面举报，以便我们的分析师核查。"},
	"Check a photo of a product": {"Vérifier la photo d'un produit", "验证商品照片"},
}

// addMessages adds the storefront's translations to the server's catalogue.
func addMessages(b *catalog.Builder) error {
	for key, t := range messages {
		if err := b.SetString(language.French, key, t.fr); err != nil {
			return err
		}
		if err := b.SetString(language.SimplifiedChinese, key, t.zh); err != nil {
			return err
		}
	}
	// Counts agree with their noun in English and French; Chinese has one form.
	plurals := []struct {
		tag  language.Tag
		msgs []any
	}{
		{language.English, []any{"=0", "No results", "=1", "1 result", "other", "%d results"}},
		{language.French, []any{"=0", "Aucun résultat", "one", "%d résultat", "other", "%d résultats"}},
		{language.SimplifiedChinese, []any{"other", "%d 件商品"}},
	}
	for _, p := range plurals {
		if err := b.Set(p.tag, "%d results", plural.Selectf(1, "%d", p.msgs...)); err != nil {
			return err
		}
	}
	return nil
}
