package licensing

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"marketplace/internal/web"
)

// propertyRoutes adds the properties' API and admin pages: admins create a property with its
// marks and edit them; the list is public.
func (h *Handler) propertyRoutes(e *echo.Echo, api *echo.Group, admin echo.MiddlewareFunc) {
	e.GET("/admin/properties", h.propertiesPage, admin)
	e.GET("/admin/properties/new", h.newPropertyPage, admin)
	e.POST("/admin/properties", h.createPropertyForm, admin)
	e.GET("/admin/properties/:code/edit", h.editPropertyPage, admin)
	e.POST("/admin/properties/:code", h.updatePropertyForm, admin)
	// The form posts to the property's own address; a person who opens that address gets its form.
	e.GET("/admin/properties/:code", func(c echo.Context) error {
		return c.Redirect(http.StatusSeeOther, "/admin/properties/"+url.PathEscape(c.Param("code"))+"/edit")
	}, admin)
	api.GET("/properties", h.apiProperties)
	api.POST("/properties", h.apiCreateProperty, admin)
	api.PATCH("/properties/:code", h.apiPatchProperty, admin)
}

func (h *Handler) apiProperties(c echo.Context) error {
	ps, err := h.svc.Properties(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

func (h *Handler) apiCreateProperty(c echo.Context) error {
	var p Property
	if err := web.DecodeJSON(c, &p); err != nil {
		return err
	}
	p, err := h.svc.AddProperty(c.Request().Context(), web.Caller(c), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (h *Handler) apiPatchProperty(c echo.Context) error {
	var patch PropertyPatch
	if err := web.DecodeJSON(c, &patch); err != nil {
		return err
	}
	p, err := h.svc.UpdateProperty(c.Request().Context(), web.Caller(c), c.Param("code"), patch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// PropertiesPage lists the properties and their marks.
type PropertiesPage struct {
	web.Page
	Properties []Property
}

func (h *Handler) propertiesPage(c echo.Context) error {
	ps, err := h.svc.Properties(c.Request().Context())
	if err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "licensing/properties", &PropertiesPage{Page: web.Page{Title: "Properties"}, Properties: ps})
}

// PropertyFormPage creates or edits a property. Marks holds the marks typed so far and a few
// empty rows for new ones.
type PropertyFormPage struct {
	web.Page
	Code   string // the property being edited, "" for a new one
	Form   Property
	Errors map[string]string
}

// blankMarks is how many empty mark rows the form offers.
const blankMarks = 3

func (h *Handler) renderPropertyForm(c echo.Context, status int, p *PropertyFormPage) error {
	p.Title = "New property"
	if p.Code != "" {
		p.Title = "Edit the property"
	}
	for range blankMarks {
		p.Form.Marks = append(p.Form.Marks, Mark{})
	}
	// The service names marks[i].text and marks[i].lang; the form shows them together.
	for f, msg := range p.Errors {
		if strings.HasPrefix(f, "marks[") {
			if p.Errors["marks"] != "" {
				msg = p.Errors["marks"] + "; " + f + ": " + msg
			} else {
				msg = f + ": " + msg
			}
			p.Errors["marks"] = msg
		}
	}
	return h.srv.Render(c, status, "licensing/property_form", p)
}

// readPropertyForm reads the code, name and the mark rows (mark_text and mark_lang, paired by
// position); rows left empty are dropped.
func readPropertyForm(c echo.Context) Property {
	p := Property{Code: c.FormValue("code"), Name: c.FormValue("name"), Marks: []Mark{}}
	params, _ := c.FormParams()
	texts, langs := params["mark_text"], params["mark_lang"]
	for i, text := range texts {
		m := Mark{Text: text}
		if i < len(langs) {
			m.Lang = langs[i]
		}
		if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.Lang) == "" {
			continue
		}
		p.Marks = append(p.Marks, m)
	}
	return p
}

func (h *Handler) newPropertyPage(c echo.Context) error {
	return h.renderPropertyForm(c, http.StatusOK, &PropertyFormPage{})
}

func (h *Handler) createPropertyForm(c echo.Context) error {
	form := readPropertyForm(c)
	p, err := h.svc.AddProperty(c.Request().Context(), web.Caller(c), form)
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderPropertyForm(c, status, &PropertyFormPage{Form: form, Errors: errs})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Property "+p.Code+" is registered.")
	return c.Redirect(http.StatusSeeOther, "/admin/properties/"+p.Code+"/edit")
}

func (h *Handler) editPropertyPage(c echo.Context) error {
	p, err := h.svc.Property(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	return h.renderPropertyForm(c, http.StatusOK, &PropertyFormPage{Code: p.Code, Form: p})
}

func (h *Handler) updatePropertyForm(c echo.Context) error {
	ctx := c.Request().Context()
	current, err := h.svc.Property(ctx, c.Param("code"))
	if err != nil {
		return err
	}
	form := readPropertyForm(c)
	form.Code = current.Code
	p, err := h.svc.UpdateProperty(ctx, web.Caller(c), current.Code, PropertyPatch{Name: &form.Name, Marks: &form.Marks})
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderPropertyForm(c, status, &PropertyFormPage{Code: current.Code, Form: form, Errors: errs})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Property "+p.Code+" is saved.")
	return c.Redirect(http.StatusSeeOther, "/admin/properties/"+p.Code+"/edit")
}

// adminMessages are the French and Chinese (Save, Cancel, Language and suspended come from
// the catalogue's) of the registry's property pages and of the
// licence statuses fans see on /verify.
var adminMessages = map[string][2]string{
	"Properties":                 {"Propriétés", "奥运资产"},
	"Properties and their marks": {"Propriétés et leurs marques", "奥运资产及其标志"},
	"New property":               {"Nouvelle propriété", "新建奥运资产"},
	"Edit the property":          {"Modifier la propriété", "编辑奥运资产"},
	"Register a property":        {"Enregistrer une propriété", "登记奥运资产"},
	"Code":                       {"Code", "代码"},
	"Name":                       {"Nom", "名称"},
	"Marks":                      {"Marques", "标志"},
	"Mark":                       {"Marque", "标志"},
	"Edit":                       {"Modifier", "编辑"},
	"every language":             {"toutes les langues", "所有语言"},
	"No property yet.":           {"Aucune propriété pour l’instant.", "尚无奥运资产。"},
	"2 to 32 capital letters and digits, such as PARIS2024": {"2 à 32 majuscules et chiffres, comme PARIS2024", "2 至 32 个大写字母和数字，例如 PARIS2024"},
	"The words whose use in a listing claims the property, one spelling a row; the language is a tag such as fr, en or zh (empty: every language). Screening reads them within seconds of a save.": {
		"Les mots dont l’emploi dans une annonce revendique la propriété, une graphie par ligne ; la langue est une étiquette comme fr, en ou zh (vide : toutes les langues). Le contrôle les lit quelques secondes après l’enregistrement.",
		"在商品信息中使用即表示声称该奥运资产的词语，每行一种写法；语言为 fr、en 或 zh 等标签（留空：所有语言）。保存后数秒内即用于审核。"},
	"active":     {"active", "有效"},
	"expired":    {"expirée", "已过期"},
	"terminated": {"résiliée", "已终止"},
}

func addAdminMessages(srv *web.Server) error {
	for key, t := range adminMessages {
		if err := srv.Pages.Messages.SetString(language.French, key, t[0]); err != nil {
			return err
		}
		if err := srv.Pages.Messages.SetString(language.SimplifiedChinese, key, t[1]); err != nil {
			return err
		}
	}
	return nil
}
