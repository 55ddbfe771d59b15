package catalog

// ImportTemplate is the catalogue CSV people download (GET /api/v1/catalog/imports/template)
// and fill in. Lines starting with # are comments: the importer skips them, so the file
// documents itself and can be uploaded as it is once the example lines are replaced.
const ImportTemplate = `# Catalogue import template. UTF-8, comma-separated, one line per SKU, the header first.
# Lines starting with # are ignored. Columns may come in any order; a value holding a comma,
# a quote or a line break is written in double quotes, with a quote inside doubled ("").
# Line numbers in error reports count every line of the file, the header being line 1.
#
# REQUIRED COLUMNS
#   sku             your SKU for this variant: 1-64 letters, digits, . _ -; unique in the file
#                   and among your products. Importing a SKU again updates it (never duplicates).
#   title_en        the English title (at most 300 characters)
#   property        the Olympic property, e.g. PARIS2024, MILANO2026, LA28, BRISBANE2032
#   category        one of: apparel, headwear, footwear, bags, accessories, pins, toys,
#                   collectibles, homeware, stationery, jewellery, sporting_goods
#   territories     where it may be sold: ISO 3166-1 codes separated by ;  (FR;BE) or WORLD.
#                   Every territory must be within one of your licences for the property and
#                   category, in force today.
#   and a price     either currency + price_amount, or one or more price_XXX columns (below)
#
# PRICES
#   currency        ISO 4217 code of the main price: EUR, USD, JPY, ...
#   price_amount    the main price as a whole number in the currency's MINOR unit:
#                   2500 EUR is 25.00 EUR; 1200 JPY is 1200 yen (JPY and KRW have no minor unit)
#   price_XXX       a price in currency XXX written in MAJOR units: price_EUR = 25.00,
#                   price_USD = 27.50, price_JPY = 4000 (12.5 is refused: yen have no decimals).
#                   Leave a cell empty when there is no price in that currency. Without
#                   currency/price_amount, the first price_XXX column with a value is the main price.
#
# OPTIONAL COLUMNS
#   product         groups variants (sizes, colours) into one product; defaults to the sku.
#                   The lines of one product must agree on property, category, territories,
#                   titles, descriptions and main currency.
#   description_en  the English description (at most 20000 characters)
#   title_XX, description_XX   the title and description in language XX (fr, de, es, ja, zh, ...)
#   size, colour    the variant's size and colour (at most 50 characters each; "color" works too)
#   stock           units in stock, 0 to 1000000 (default 0)
#   gtin            the GTIN/EAN/UPC barcode: 8, 12, 13 or 14 digits with a valid check digit
#   images          file names in the images zip uploaded with the CSV, separated by ;  the
#                   first is the main picture. JPEG, PNG or WebP, at most 40 megapixels. A
#                   product's pictures are those of its first line that names any; a later line
#                   leaves the cell empty or repeats them.
#
# Your approved products become your official listings, live once screened.
sku,product,title_en,description_en,title_fr,description_fr,property,category,currency,price_amount,price_USD,price_JPY,territories,stock,gtin,size,colour,images
PAR24-TEE-BLUE-M,PAR24-TEE-BLUE,Paris 2024 official T-shirt,"Organic cotton, printed in France",T-shirt officiel Paris 2024,"Coton bio, imprimé en France",PARIS2024,apparel,EUR,3500,38.00,5500,FR;BE,120,4006381333931,M,blue,tee-blue-front.jpg;tee-blue-back.jpg
PAR24-TEE-BLUE-L,PAR24-TEE-BLUE,Paris 2024 official T-shirt,"Organic cotton, printed in France",T-shirt officiel Paris 2024,"Coton bio, imprimé en France",PARIS2024,apparel,EUR,3500,38.00,5500,FR;BE,80,,L,blue,
`
