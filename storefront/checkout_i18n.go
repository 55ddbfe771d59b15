package storefront

// checkoutMessages are the cart, checkout, order and test-payment pages' messages in French
// and Simplified Chinese. init adds them to the storefront's catalogue (messages), so
// TestEveryMessageIsTranslated and Routes see one table; a key the storefront already
// translates keeps its text.
var checkoutMessages = map[string]translation{
	"Added to your cart.": {"Ajouté à votre panier.", "已加入购物车。"},
	"The order is cancelled; its items are back in your cart.": {
		"La commande est annulée ; ses articles sont de retour dans votre panier.", "订单已取消，商品已放回购物车。"},
	"Not sold in %s: priced in %s only. Choose that currency to buy it.": {
		"Non vendu en %s : prix en %s uniquement. Choisissez cette devise pour l'acheter.", "不以%s销售：仅以%s标价。请选择该货币购买。"},
	"Only %d left: lower the quantity.": {"Plus que %d : réduisez la quantité.", "仅剩 %d 件：请减少数量。"},
	"This item no longer exists.":       {"Cet article n'existe plus.", "此商品已不存在。"},
	"All your orders":                   {"Toutes vos commandes", "全部订单"},
	"Amount":                            {"Montant", "金额"},
	"An item you bought was found to be counterfeit and taken down.": {
		"Un article que vous avez acheté s'est révélé être une contrefaçon et a été retiré.", "您购买的一件商品被认定为假冒商品，已下架。"},
	"Cancel and return to the cart": {"Annuler et revenir au panier", "取消并返回购物车"},
	"Check out and pay %s":          {"Commander et payer %s", "结账并支付 %s"},
	"Find something to love":        {"Trouver votre bonheur", "去挑选心仪商品"},
	"It was %s when you added it; it is now %s.": {
		"Il était de %s quand vous l'avez ajouté ; il est maintenant de %s.", "加入购物车时为 %s，现在为 %s。"},
	"Item":                             {"Article", "商品"},
	"Items":                            {"Articles", "商品"},
	"Keep shopping":                    {"Continuer vos achats", "继续购物"},
	"Let the payment expire (test)":    {"Laisser le paiement expirer (test)", "让付款过期（测试）"},
	"Official product, licensed to %s": {"Produit officiel, sous licence de %s", "官方商品，授权方：%s"},
	"Order %d":                         {"Commande %d", "订单 %d"},
	"Order":                            {"Commande", "订单"},
	"Paid on %s. Thank you! Your order is on its way.": {
		"Payée le %s. Merci ! Votre commande est en route.", "已于 %s 付款。谢谢！您的订单正在配送。"},
	"Paid through the test-payment page: no money moved.": {
		"Payée sur la page de paiement de test : aucun argent n'a circulé.", "通过测试付款页面支付：没有实际扣款。"},
	"Pay %s (test)": {"Payer %s (test)", "支付 %s（测试）"},
	"Pay now":       {"Payer maintenant", "立即付款"},
	"Placed":        {"Passée le", "下单时间"},
	"Price changed": {"Prix modifié", "价格已变动"},
	"Remove %s":     {"Retirer %s", "移除 %s"},
	"Remove or change the items marked above to check out.": {
		"Retirez ou modifiez les articles signalés ci-dessus pour commander.", "请移除或修改上面标出的商品后再结账。"},
	"Remove":                        {"Retirer", "移除"},
	"SKU":                           {"Réf.", "货号"},
	"See the order":                 {"Voir la commande", "查看订单"},
	"Shipped to %s, charged in %s.": {"Livré en %s, payé en %s.", "配送至 %s，以 %s 结算。"},
	"Ships to":                      {"Livraison", "配送至"},
	"TEST MODE · no money moves":    {"MODE TEST · aucun argent ne circule", "测试模式 · 不会实际扣款"},
	"Test payment":                  {"Paiement de test", "测试付款"},
	"Thank you: we are waiting for the payment's confirmation. Reload this page in a moment.": {
		"Merci : nous attendons la confirmation du paiement. Rechargez cette page dans un instant.", "谢谢：我们正在等待付款确认，请稍后刷新本页。"},
	"This order is %s.": {"Cette commande est : %s.", "此订单状态：%s。"},
	"This store runs without a Stripe key, so this page stands in for Stripe's payment page. Paying here sends a signed checkout.session.completed event to the store's Stripe webhook, exactly as Stripe would. No card is needed and nothing is charged.": {
		"Cette boutique fonctionne sans clé Stripe : cette page remplace la page de paiement de Stripe. Payer ici envoie au webhook Stripe de la boutique un événement checkout.session.completed signé, exactement comme Stripe le ferait. Aucune carte n'est demandée et rien n'est débité.",
		"本商店未配置 Stripe 密钥，因此由本页面代替 Stripe 的付款页面。在此付款会向商店的 Stripe webhook 发送一个已签名的 checkout.session.completed 事件，与 Stripe 的做法完全相同。无需银行卡，也不会扣款。"},
	"Total":  {"Total", "合计"},
	"Update": {"Mettre à jour", "更新"},
	"Waiting for your payment until %s; the items are kept for you until then.": {
		"En attente de votre paiement jusqu'au %s ; les articles vous sont réservés jusque-là.", "等待您付款至 %s；在此之前商品为您保留。"},
	"We will refund you %s to the card you paid with; you do not need to do anything.": {
		"Nous vous rembourserons %s sur la carte utilisée ; vous n'avez rien à faire.", "我们将把 %s 退回您付款所用的银行卡，您无需进行任何操作。"},
	"We will refund you %s.":             {"Nous vous rembourserons %s.", "我们将退款 %s。"},
	"You have not ordered anything yet.": {"Vous n'avez encore rien commandé.", "您还没有下过订单。"},
	"Your cart is empty.":                {"Votre panier est vide.", "您的购物车是空的。"},
	"Your cart":                          {"Votre panier", "购物车"},
	"Your orders":                        {"Vos commandes", "我的订单"},
	"counterfeit: refunded":              {"contrefaçon : remboursé", "假冒商品：已退款"},
	"licence":                            {"licence", "授权"},
	"refund due":                         {"remboursement dû", "待退款"},
	// Order statuses, shown through .T on the order pages.
	"pending":   {"en attente de paiement", "待付款"},
	"paid":      {"payée", "已付款"},
	"expired":   {"expirée", "已过期"},
	"failed":    {"échouée", "失败"},
	"cancelled": {"annulée", "已取消"},
}

func init() {
	for k, t := range checkoutMessages {
		if _, ok := messages[k]; !ok {
			messages[k] = t
		}
	}
}
