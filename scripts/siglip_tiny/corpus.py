"""Text for the tiny SigLIP fixture: the SentencePiece training corpus and the golden prompts.

Everything here is written out literally (no downloads); `make_fixture.py` imports it.
"""

# CLIP's 80 ImageNet prompt templates (Radford et al., 2021), as published with CLIP.
TEMPLATES = [
    "a bad photo of a {}.", "a photo of many {}.", "a sculpture of a {}.",
    "a photo of the hard to see {}.", "a low resolution photo of the {}.", "a rendering of a {}.",
    "graffiti of a {}.", "a bad photo of the {}.", "a cropped photo of the {}.", "a tattoo of a {}.",
    "the embroidered {}.", "a photo of a hard to see {}.", "a bright photo of a {}.",
    "a photo of a clean {}.", "a photo of a dirty {}.", "a dark photo of the {}.",
    "a drawing of a {}.", "a photo of my {}.", "the plastic {}.", "a photo of the cool {}.",
    "a close-up photo of a {}.", "a black and white photo of the {}.", "a painting of the {}.",
    "a painting of a {}.", "a pixelated photo of the {}.", "a sculpture of the {}.",
    "a bright photo of the {}.", "a cropped photo of a {}.", "a plastic {}.",
    "a photo of the dirty {}.", "a jpeg corrupted photo of a {}.", "a blurry photo of the {}.",
    "a photo of the {}.", "a good photo of the {}.", "a rendering of the {}.",
    "a {} in a video game.", "a photo of one {}.", "a doodle of a {}.",
    "a close-up photo of the {}.", "a photo of a {}.", "the origami {}.",
    "the {} in a video game.", "a sketch of a {}.", "a doodle of the {}.", "a origami {}.",
    "a low resolution photo of a {}.", "the toy {}.", "a rendition of the {}.",
    "a photo of the clean {}.", "a photo of a large {}.", "a rendition of a {}.",
    "a photo of a nice {}.", "a photo of a weird {}.", "a blurry photo of a {}.",
    "a cartoon {}.", "art of a {}.", "a sketch of the {}.", "a embroidered {}.",
    "a pixelated photo of a {}.", "itap of the {}.", "a jpeg corrupted photo of the {}.",
    "a good photo of a {}.", "a plushie {}.", "a photo of the nice {}.",
    "a photo of the small {}.", "a photo of the weird {}.", "the cartoon {}.", "art of the {}.",
    "a drawing of the {}.", "a photo of the large {}.", "a black and white photo of a {}.",
    "the plushie {}.", "a dark photo of a {}.", "itap of a {}.", "graffiti of the {}.",
    "a toy {}.", "itap of my {}.", "a photo of a cool {}.", "a photo of a small {}.",
    "a tattoo of the {}.",
    # SigLIP's own zero-shot template in the Hugging Face pipeline.
    "This is a photo of {}.",
    "a photo of a {}, a type of flower.",
    "picture of a {} flower",
]

# Flower names (Oxford 102 categories and a few more).
FLOWERS = [
    "pink primrose", "hard-leaved pocket orchid", "canterbury bells", "sweet pea",
    "english marigold", "tiger lily", "moon orchid", "bird of paradise", "monkshood",
    "globe thistle", "snapdragon", "colt's foot", "king protea", "spear thistle", "yellow iris",
    "globe-flower", "purple coneflower", "peruvian lily", "balloon flower",
    "giant white arum lily", "fire lily", "pincushion flower", "fritillary", "red ginger",
    "grape hyacinth", "corn poppy", "prince of wales feathers", "stemless gentian", "artichoke",
    "sweet william", "carnation", "garden phlox", "love in the mist", "mexican aster",
    "alpine sea holly", "ruby-lipped cattleya", "cape flower", "great masterwort", "siam tulip",
    "lenten rose", "barbeton daisy", "daffodil", "sword lily", "poinsettia", "bolero deep blue",
    "wallflower", "marigold", "buttercup", "oxeye daisy", "common dandelion", "petunia",
    "wild pansy", "primula", "sunflower", "pelargonium", "bishop of llandaff", "gaura",
    "geranium", "orange dahlia", "pink-yellow dahlia", "cautleya spicata", "japanese anemone",
    "black-eyed susan", "silverbush", "californian poppy", "osteospermum", "spring crocus",
    "bearded iris", "windflower", "tree poppy", "gazania", "azalea", "water lily", "rose",
    "thorn apple", "morning glory", "passion flower", "lotus", "toad lily", "anthurium",
    "frangipani", "clematis", "hibiscus", "columbine", "desert-rose", "tree mallow", "magnolia",
    "cyclamen", "watercress", "canna lily", "hippeastrum", "bee balm", "ball moss", "foxglove",
    "bougainvillea", "camellia", "mallow", "mexican petunia", "bromelia", "blanket flower",
    "trumpet creeper", "blackberry lily", "dandelion", "daisy", "tulip", "orchid", "lavender",
    "peony", "lilac", "jasmine", "violet", "chrysanthemum",
]

OTHER_WORDS = [
    "cat", "dog", "bird", "horse", "car", "bicycle", "boat", "house", "tree", "mountain",
    "river", "beach", "city", "street", "table", "chair", "cup of coffee", "book", "computer",
    "phone", "person", "child", "woman", "man", "fish", "apple", "banana", "pizza", "sandwich",
    "bee", "butterfly", "garden", "field", "forest", "meadow", "vase", "bouquet", "leaf",
    "seed", "petal", "stem", "root", "pollen", "insect", "toy", "prize", "sign", "window",
]

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "a field of yellow flowers under a blue sky",
    "she picked a bunch of wild flowers on the way home",
    "bees collect nectar and pollen from the blossoms",
    "the garden was full of roses tulips and daisies",
    "we walked through the meadow in the early morning",
    "dandelion seeds are carried far away by the wind",
    "the photograph shows a close view of a single petal",
    "this image was taken with an old camera in 2021",
    "there are 3 cats and 2 dogs sitting on the sofa",
    "the price dropped by 50 percent during the sale",
    "he paid 100 dollars for the painting",
    "the first prize went to a small white orchid",
    "it is a sunny day and the sunflowers face the sun",
    "they are planting seeds in the spring",
    "we have got many roses in the front yard",
    "i am a flower and you will see me bloom",
    "he would know the name of every plant in the park",
    "fish and chips with salt and vinegar",
    "rock paper scissors is a simple hand game",
    "an email address and a web link were printed on the card",
    "the hyphenated compound word was hard to read",
    "the text was in bold letters",
    "a cup of cafe au lait and a croissant",
    "naive art of a flower painted by a child",
    "the pollen grains are measured on the scale of micrometres",
    "half of a flower was eaten by an insect",
    "there is a zero width character hidden in this sentence",
    "a tab and a bell are control characters",
    "the ellipsis marks an unfinished thought",
    "fine flowers grow in the fields of the valley",
    "full width letters are common in east asian text",
    "the summer was warm and the flowers were bright",
    "a vase of lilies stands on the kitchen table",
    "my dog likes to play with his toy in the garden",
    "it is raining and the petals are wet",
    "the mountain is covered with snow in winter",
    "a blurry picture of a bird on a branch",
    "a black and white photo of an old house",
    "a painting of a boat on a calm lake",
]

# Accented and non-Latin words, so that the vocabulary holds some non-ASCII characters.
# Emoji are deliberately absent: they must come out as <unk>.
MULTILINGUAL = [
    "café au lait", "naïve", "résumé", "Zürich", "été", "l'été", "über", "señor", "façade",
    "piñata", "crème brûlée", "jalapeño", "Ångström", "straße", "smörgåsbord", "garçon",
    "一朵蒲公英的照片", "蒲公英", "タンポポ", "花の写真", "写真", "ромашка", "цветок", "λουλούδι",
]

# The golden prompts. The first 61 are those of the CLIP golden tokens
# (crates/clip/tests/golden/tokens.json); the rest are SigLIP-specific hard cases.
CLIP_GOLDEN_PROMPTS_COUNT = 61
PROMPTS = [
    "dandelion", "daisy", "dandelion flower", "daisy flower", "picture of a dandelion flower",
    "picture of a daisy flower", "a photo of a sunflower.", "a photo of a rose, a type of flower.",
    "itap of a tulip.", "a bad photo of the dandelion.", "a close-up photo of a Daisy",
    "A PHOTO OF A DAISY", "a photo of my dog's toy", "it's a cat", "they're sunflowers",
    "we've got roses", "I'm a flower", "you'll see", "he'd know", "a photo of 3 cats",
    "photo from 2021", "the 1st prize", "café au lait", "naïve art of a flower",
    "Ångström-scale pollen", "a photo of a 🌼", "emoji 🌻🌷!!", "一朵蒲公英的照片", "タンポポ",
    "fish & chips", "fish &amp; chips", "  lots   of\twhitespace \n here  ",
    "hyphenated-compound-word", "punctuation!!! ... ??? ;;;", "email@example.com",
    "https://example.com/a?b=c", "C++ and C#", "rock-paper-scissors", "l'été", "don't",
    "50% off", "$100", "x²",
    "a photo of a dandelion " * 12,
    "", "a", "résumé", "Zürich", "ﬁne", "Ｆｕｌｌｗｉｄｔｈ", "e\u0301te\u0301", "it’s a “daisy”",
    "‘quoted’ flower", "non\xa0breaking space", "zero\u200bwidth", "tab\tand\x07bell",
    "ellipsis…", "&lt;b&gt;bold&lt;/b&gt;", "cafÃ© mojibake", "½ of a flower", "ﬂower",
    # SigLIP-specific
    "This is a photo of dandelion.",
    "a photo of a dandelion, a type of flower.",
    " leading space",
    "trailing space ",
    "   ",
    "!!!",
    "UPPER lower MiXeD",
    "ΟΔΟΣ and σοφός",
    "İstanbul",
    "STRASSE straße ẞ",
    "file\x1cseparator",
    "ideographic\u3000space",
    "line\u2028separator",
    "a ▁ metaspace ▁▁ sign",
    "▁leading metaspace",
    "<pad> is not special",
    "tokens: <s> and </S>",
    "Ｈｅｌｌｏ！ｗｏｒｌｄ？",
    "1234567890",
    "a" * 200,
    "🌼🌼🌼 🌻 x 🌷🌷",
    "a photo of a 🌼, a type of flower.",
    "e\u0301te\u0301 (combining accents)",
    "dandelion" * 30,
    "mixed 中文 and English 花",
    "tabs\t\tand\r\nnewlines",
    "___underscores___ and --dashes--",
    "[brackets] {braces} (parens) <angles>",
    "\\backslash/ slash|pipe",
    "quotes \"double\" 'single' `back`",
    "numbers 3.14 and 1,000,000",
    "a photo of a daisy" + " in the garden" * 20,
]

# Prompts that contain the tokenizer's special tokens literally. They are checked and reported,
# but are not goldens: the slow tokenizer treats them in ways a fast tokenizer cannot mirror
# (see README.md).
SPECIAL_LITERAL_PROMPTS = [
    "</s>",
    "a </s> b",
    "a photo of a daisy</s>",
    "<unk>",
    "x <unk> y",
]

# Prompts whose embeddings go into embeddings.json (40 of them).
EMBEDDING_PROMPTS_COUNT = 40


def corpus_lines():
    """The SentencePiece training corpus, in a fixed order."""
    lines = []
    words = FLOWERS + OTHER_WORDS
    for template in TEMPLATES:
        for word in words:
            lines.append(template.format(word))
    for _ in range(20):
        lines.extend(SENTENCES)
        lines.extend(MULTILINGUAL)
        lines.extend(FLOWERS)
    for n in range(0, 2100, 7):
        lines.append(f"a photo of {n} flowers from {1900 + n % 130}")
    lines.extend(more_lines())
    return lines


# Common English words, so that the vocabulary reaches ~1000 pieces.
COMMON_WORDS = """
about above across action activity actually add address after afternoon again against age
agree air allow almost alone along already also although always among amount ancient angle
animal another answer anything appear area argue arm around arrive art article ask attack
attention autumn available average away baby back bad bag ball bank bar base basket beautiful
because become bed before begin behind believe below best better between beyond big bill black
blade blanket bloom blossom blue board body bone border bottle bottom bowl box branch bread
break bright bring brother brown build building burn business busy butter buy call calm camera
candle capital captain card care carry case castle catch cause ceiling center central century
certain chain chance change chapter character charge cheap check cheese chicken choice choose
church circle citizen claim class clean clear climb clock close cloth cloud coast coat cold
collect college colour column combine come comfort common company compare complete concern
condition contain continue control cook copy corner cost cotton count country couple course
cover cream create crop cross crowd crown culture current curtain cut damage dance danger dark
daughter dead deal death decide deep degree describe desert design detail develop die
difference difficult dinner direction discover distance divide doctor door double down draw
dream dress drink drive drop dry during dust duty each ear early earth east easy eat edge
effect egg eight either electric element else empty end enemy energy engine enjoy enough enter
entire equal escape evening event ever every exact example except exercise expect experience
explain express eye face fact fall family famous far farm fast father favourite fear feather
feel fence few fight figure fill film final find finger finish fire firm flat flight floor
flow fly follow food foot force foreign forget form forward frame free fresh friend front
fruit full funny future game gate gather gentle gift girl give glass go gold good grass grave
gray great green ground group grow guess guide hair half hall hand hang happen happy hard hat
head health hear heart heat heavy help here hidden high hill history hold hole holiday hollow
home hope horn hospital hot hour huge human hundred hunt idea ill image imagine important inch
include increase indeed inside instead interest iron island job join journey joy judge juice
jump just keep key kind king kitchen knee knife knock know lady lake lamp land language large
last late laugh law lead learn least leather leave left length lesson letter level library lie
life lift light like line lion lip liquid list listen little live long look loose lose loud
love low lucky lunch machine main make manner map mark market mass master match material matter
maybe meal mean measure meat medicine meet member memory metal middle might mile milk mind
minute mirror miss model modern moment money month moon more most mother motion mouse mouth
move much music must name narrow nation nature near neck need needle nest never new news next
nice night nine noise none noon north nose note nothing notice number ocean offer office often
oil old once only open opinion orange order other outside over own page paint pair paper
parent part party pass past path pattern pay peace pen pencil people perfect period piece pink
place plain plan plant plate play pleasant plenty pocket point poison police pool poor popular
position possible pot potato pound powder power present press pretty price print private
problem produce promise proper protect proud public pull pupil purple push quarter queen
question quick quiet race rain raise rather reach read ready real reason receive record region
remember repeat report rest result return rich ride right ring rise road rock roof room round
row rule run safe sail salt same sand save say school science score sea season seat second
secret see seem sell send sense serve set seven shade shadow shake shape share sharp sheep
shelf shell shine ship shirt shoe shop short shoulder shout show shut side silent silk silver
simple since sing sister sit size skin sky sleep slow small smell smile smoke smooth snake snow
soft soil soldier solid some son song soon sort sound soup south space speak special speed
spend spirit spot spread square stage stair stand star start station stay steam steel step
stick still stone stop store storm story straight strange stream strength strong student study
subject success sugar summer supply support sure surface surprise sweet swim system tail take
talk tall taste teach team tear tell ten test thank thick thin thing think third thousand
three throat through throw thumb ticket tiny title today together tomorrow tongue tonight tool
tooth top touch tower town track trade train travel treasure tree trouble true trust try turn
twelve twenty twice two type uncle under unit until upon upper use usual valley value various
very view village visit voice wait walk wall want war warm wash waste watch water wave way
weak wear weather week weight welcome west wet wheel while whisper white whole wide wife wild
win wind wing winter wire wise wish within without wonder wood wool word work world worry
write wrong yard year yellow yesterday young zero
""".split()


def more_lines():
    """Deterministic sentences from COMMON_WORDS: each word alone, and in word pairs."""
    lines = list(COMMON_WORDS)
    n = len(COMMON_WORDS)
    for i, word in enumerate(COMMON_WORDS):
        for step in (7, 31, 101):
            lines.append(f"the {word} and the {COMMON_WORDS[(i * step + 3) % n]}")
    return lines
