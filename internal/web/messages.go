package web

import (
	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// layoutMessages are the translations of the layout's own strings that no slice owns, in the
// order of Languages after English: French, Simplified Chinese.
var layoutMessages = map[string][2]string{
	"Test payments are on.": {"Paiements de test activés.", "测试支付已开启。"},
	"Orders are paid on a test page: no card is charged and nothing is shipped.": {
		"Les commandes sont payées sur une page de test : aucune carte n'est débitée et rien n'est expédié.",
		"订单在测试页面上支付：不会扣款，也不会发货。"},
}

// addLayoutMessages adds the layout's translations to the server's catalogue.
func addLayoutMessages(b *catalog.Builder) error {
	for key, t := range layoutMessages {
		if err := b.SetString(language.French, key, t[0]); err != nil {
			return err
		}
		if err := b.SetString(language.SimplifiedChinese, key, t[1]); err != nil {
			return err
		}
	}
	return nil
}
