"""The crisis phrases: overdose and suicide language, in English or Spanish, that means a crisis on its
own, fast and explainable (the learned model of understanding.model reads everything else)."""
import re
import unicodedata

from understanding.text import plain as fold, plain_words as words

_PATTERNS = [
    r"over[\s-]?dos(e|ed|es|ing)",
    r"\bod(?:'d|'ing|ing|ed)?\b",
    r"\bo\.d\.?",
    r"(isn'?t|is\s+not|stopped|stop|quit|can'?t|cannot|won'?t|not)\s+breath(e|es|ing)?\b",
    r"(can'?t|cannot|won'?t|will\s+not)\s+(wake|get)\s+((him|her|them)\s+)?up\b",
    r"(can'?t|cannot|won'?t|will\s+not)\s+wake\s+(him|her|them)\b",  # not "can't get her to stop texting me"
    r"\bunresponsive\b",
    r"\b(lips|face|skin)\s+(are\s+|is\s+|turning\s+|turned\s+)?blue",
    r"\bsuicid(?!(io|ios|a|as|ar|arme|arse|arte|arnos|ara|o)\b)",  # not Spanish's forms (crisis_languages)
    r"\bkill(s|ed|ing)?\s+(my|him|her|them)\s?sel(f|ves)",
    r"\bend\s+(my|it)\s+(life|all)",
    r"\bwant\s+to\s+die\b",
    r"\bwanna\s+die\b",
    r"\bbetter\s+off\s+dead\b",
    r"\bhurt\s+myself\b",
    r"\b(don'?t|do\s+not|dont)\s+want\s+to\s+(live|be\s+alive)\b",
    r"\bno\s+reason\s+to\s+live\b",
    r"\b(took|taken|swallowed)\s+(too\s+many|a\s+(whole\s+)?bottle\s+of|all\s+(of\s+)?(my|his|her|their|the))\s+"
    r"(\w+\s+)?(pills|tablets|xanax|percs?|oxys?)\b",
    r"\b(took|taken|swallowed)\s+too\s+many\s+(\w+\s+)?(meds|medication|medications)\b",
    r"\b(going\s+to|gonna|want\s+to|wanna)\s+(take|swallow)\s+(all|a\s+(whole\s+)?bottle)\s+(of\s+)?(my|the)?\s*"
    r"(\w+\s+)?(pills|tablets|meds)\b",
    r"\b(going\s+to|gonna|want\s+to|wanna)\s+end\s+it\b(?!\s+with)",
    r"\bend(ing)?\s+it\s+all\b",
    r"(?<!\d)(?<!\d\s)\bkms\b",
    r"\b(he|she|they|he'?s|she'?s)\s+(is\s+|are\s+|looks?\s+|turned\s+|turning\s+|went\s+|going\s+)?blue\b"
    r"(?!\s+(collar|about|over|because))",
    r"\bcan'?t\s+go\s+on\s*(anymore|any\s+more|like\s+this|living)?\s*[.!?]*\s*$",
    r"\b(is|are)\s+(he|she|they)\s+dead\b(?!\s+(set|serious|wrong|tired|broke))",
]
# Asking for emergency help: the emergency numbers (whoever texts about 911 or 988 is told what to do now;
# not a phone number, an address, a room or a price), the crisis line, a plea and nothing else ("help me",
# "help us please": HELP alone stays the carrier's HELP word), and in Spanish the cries for help. The model
# never overrules these. The numbers belong to no language: they decide that a text is a crisis, never the
# language it is answered in.
_NUMBERS = [
    r"(?<![\d$#.,(/:])(?<!\d[\s-])(?<!room\s)(?<!suite\s)(?<!porsche\s)(?<!apt\s)(?<!unit\s)\b(911|988)\b"
    r"(?!\s*[-.)/:]?\s*\d)(?!\s+(oak|st|street|ave|avenue|rd|road|blvd|dr|drive|dollars|bucks|main)\b)",
]
_HELP = [
    r"\bcrisis\s+(line|hotline|number)\b",
    r"^\W*help\s+(me|us)(\s+(please|pls|plz|now))*\W*$",
    r"^\W*(please|pls|plz)\s+help(\s+(me|us|now))*\W*$",
    r"^\W*help\W+(please|pls|plz|now)(\W+(please|pls|plz|now))*\W*$",
    # naloxone given, or about to be, and not enough (a dose again, how often, wearing off, not working):
    # someone is in the middle of an overdose, whatever the model says; never about getting or learning it
    r"^(?!.*\b(get|got|buy|order|pick\s+up|find|where|training|class|classes|kits?|free|cost|shelf|expire[sd]?|"
    r"expiration|benzos?|xanax|meth|alcohol|stimulants?|cocaine|coke)\b).*\b(narcan|naloxone)\b[^.?!]{0,40}"
    r"\b(again|twice|more\s+than\s+once|(another|second|2nd)\s+(dose|one|time)|wear(s|ing)?\s+off|wore\s+off|"
    r"worn\s+off|not\s+(work(ing)?|helping)|is\s*n'?t\s+(working|helping)|does\s*n'?t\s+work|did\s*n'?t\s+work|"
    r"do\s*n'?t\s+work|last|lasts)\b",
    r"^(?!.*\b(get|buy|order|pick\s+up|find|where|training|class|kits?|free)\b).*\b(give|gave|giving|use|used|spray|"
    r"sprayed|need|needs)\s+((him|her|them|it)\s+)?(another|a\s+second|a\s+2nd|more|one\s+more|extra)\s+"
    r"(dose\s+of\s+)?(narcan|naloxone)\b",
    r"^(?!.*\b(kits?|training|class|get|free)\b).*\bhow\s+(many|often)\b[^.?!]{0,25}\b(narcan|naloxone)\b",
    r"\b(back\s+to\s+sleep|nodding\s+(off\s+)?again|passed\s+out\s+again|out\s+again)\b[^.?!]{0,30}\b(after\s+)?"
    r"(the\s+)?(narcan|naloxone)\b",
]
_HELP_ES = [
    # only said in an emergency (not "Maria del Socorro", "Perpetuo Socorro", "vivo en Socorro")
    r"(?<!DEL\s)(?<!PERPETUO\s)(?<!EN\s)\b(AUXILIO|SOCORRO)\b",
    r"^\W*(AYUDAME|AYUDENME|AYUDANOS)(\W+(POR\s+FAVOR|PORFA|PORFAVOR|YA|AHORA))*\W*$",  # "ayudame" alone: a plea
    r"\bLINEA\s+DE\s+CRISIS\b",
    r"^\W*AYUDA(\W+(POR\s+FAVOR|PORFA|PORFAVOR|YA|AHORA|URGENTE)){2,}\W*$",  # "ayuda por favor por favor"
    # la naloxona otra vez, cuantas veces, se le pasa el efecto, no funciona: nunca conseguirla o aprender
    r"^(?!.*\b(CONSIGO|CONSEGUIR|COMPRAR|DONDE|CLASE|CURSO|ENTRENAMIENTO|KIT|KITS|GRATIS|CUESTA|ESTANTE|CADUCA|"
    r"VENCE)\b).*\b(NARCAN|NALOXONA)\b.{0,40}\b(OTRA\s+VEZ|DOS\s+VECES|DE\s+NUEVO|OTRA\s+DOSIS|SEGUNDA\s+DOSIS|"
    r"NO\s+FUNCIONA|NO\s+FUNCIONO|NO\s+HACE\s+EFECTO|NO\s+HIZO\s+EFECTO|SE\s+LE\s+PASA|SE\s+PASA\s+EL\s+EFECTO)\b",
    r"^(?!.*\b(ESTANTE|CADUCA|VENCE|CURSO|CLASE)\b).*\bCUANTO\s+(TIEMPO\s+)?DURA\b.{0,30}\b(NARCAN|NALOXONA)\b",
    r"^(?!.*\b(CONSIGO|CONSEGUIR|DONDE|KIT|KITS|GRATIS)\b).*\b(DAR(LE|LES)?|PONER(LE|LES)?|USAR|NECESITA)\s+"
    r"(OTRA|UNA\s+SEGUNDA|MAS)\s+(DOSIS\s+DE\s+)?(NARCAN|NALOXONA)\b",
    r"^(?!.*\b(KIT|KITS|GRATIS|DAN|REGALAN)\b).*\bCUANTAS?\s+(VECES|DOSIS)\b.{0,25}\b(NARCAN|NALOXONA)\b",
    r"\b(VOLVIO\s+A\s+DORMIR(SE)?|SE\s+VOLVIO\s+A\s+DORMIR|OTRA\s+VEZ\s+DORMIDO|SE\s+DESMAYO\s+OTRA\s+VEZ)\b.{0,30}"
    r"\b(NARCAN|NALOXONA)\b",
]
# Spanish, matched on the folded text (upper case, no accents): "no está respirando" and "no esta
# respirando" are one phrase.
_SPANISH = [
    r"\bSOBRE\s?DOSIS\b",
    r"\bOVER\s?DOSIS\b",
    r"\bNO\s+(ESTA\s+|ESTAN\s+)?RESPIRA(NDO|N)?\b",
    r"\b(DEJO|DEJA)\s+DE\s+RESPIRAR\b",
    r"\bNO\s+PUEDE\s+RESPIRAR\b",
    r"\bNO\s+(SE\s+)?DESPIERTA(N)?\b",
    r"\bNO\s+(LO|LA|LE|LOS)\s+PUEDO\s+DESPERTAR\b",
    r"\bNO\s+PUEDO\s+DESPERTAR(LO|LA|LE|LOS)\b",
    r"\bINCONSCIENTE\b",
    r"\bLABIOS\s+(MORADOS|AZULES)\b",
    r"\bNO\s+(LO|LA|LE|LOS)\s+PODEMOS\s+DESPERTAR\b",
    r"\bNO\s+REACCIONA(N)?\b",
    r"\bSE\s+ESTA\s+MURIENDO\b",
    r"\b(TOMO|SE\s+TOMO|TOMARON)\s+DEMASIADAS\s+PASTILLAS\b",
    r"\bSUICID(IO|IOS|A|AS|AR|ARME|ARSE|ARTE|ARNOS|ARA|O)\b",  # Spanish forms only: "suicidal" is English's
    r"\bMATARME\b",
    r"\b(ME|SE)\s+(QUIERO|QUIERE|QUIEREN|VOY\s+A|VA\s+A)\s+MATAR\b",
    r"\bVOY\s+A\s+MATARME\b",
    r"\bQUITAR(ME|SE)?\s+LA\s+VIDA\b",
    r"\bACABAR\s+CON\s+MI\s+VIDA\b",
    r"\bNO\s+QUIERO\s+(SEGUIR\s+)?VIVIENDO\b",
    r"\bNO\s+QUIERO\s+(SEGUIR\s+)?VIVIR\b",
    r"\b(ME\s+)?QUIERO\s+MORIR(ME)?\b",
    r"\bHACERME\s+DANO\b",
    r"\bQUIERO\s+DESAPARECER\b",
    r"\b(USE|USO|CONSUMI|CONSUMIO|TOME|TOMO|SE\s+TOMO|ME\s+METI|SE\s+METIO|ME\s+INYECTE|SE\s+INYECTO|ME\s+PASE|"
    r"SE\s+PASO)\s+(DE\s+)?DEMASIADO\b(?!\s+(TIEMPO|RAPIDO|DINERO|TARDE|PRONTO|MI|SU|LA|EL|LOS|LAS)\b)",
]
_CRISIS = re.compile("|".join(f"(?:{p})" for p in _PATTERNS + _HELP), re.IGNORECASE)
_CRISIS_ES = re.compile("|".join(f"(?:{p})" for p in _SPANISH + _HELP_ES))
_NUMBER = re.compile("|".join(f"(?:{p})" for p in _NUMBERS), re.IGNORECASE)
_SEEKS = re.compile("|".join(f"(?:{p})" for p in _HELP), re.IGNORECASE)
_SEEKS_ES = re.compile("|".join(f"(?:{p})" for p in _HELP_ES))


def crisis_languages(text: str) -> frozenset[str]:
    """The languages ("en", "es") in which a message mentions overdose, not breathing, suicide or
    self-harm; empty when it does not."""
    found = set()
    if _CRISIS.search(unicodedata.normalize("NFKC", text).replace("\u2019", "'")):
        found.add("en")
    if _CRISIS_ES.search(" ".join(fold(text).split())):
        found.add("es")
    return frozenset(found)


def seeks_emergency_help(text: str) -> bool:
    """911, 988, the crisis line, or a plea for help: answered with what to do now, whatever the model says."""
    plain = unicodedata.normalize("NFKC", text)
    return bool(_NUMBER.search(plain) or _SEEKS.search(plain) or _SEEKS_ES.search(" ".join(fold(text).split())))


# Words only one of the languages uses (never "no", "me" or "a": both do), common in the messages people
# send us: they tell which language a message is in when crisis words of both languages match in it.
_SPANISH_WORDS = frozenset("""MI MIS SU SUS EL LA LOS LAS ES ESTA ESTOY QUE DE DEL Y PERO CON POR PARA SE YA
    QUIERO QUIERE HIJO HIJA HERMANO HERMANA ESPOSO ESPOSA MAMA PAPA AYUDA TENGO TIENE UNA UNO MUY VOY""".split())
_ENGLISH_WORDS = frozenset("""MY HIS HER THE IS AM ARE AND BUT WITH FOR NOT TO OF I HE SHE WANT WANTS SON
    DAUGHTER BROTHER SISTER HUSBAND WIFE MOM DAD HELP HAVE HAS AN VERY FEEL FEELING""".split())


def looks_spanish(text: str, at_least: int = 1) -> bool:
    """More of the message's words are Spanish-only than English-only (and at least `at_least` of them)."""
    found = words(text)
    spanish = sum(w in _SPANISH_WORDS for w in found)
    return spanish >= at_least and spanish > sum(w in _ENGLISH_WORDS for w in found)


def is_crisis(text: str) -> bool:
    """True for messages that mention overdose, not breathing, suicide or self-harm, in either language."""
    return bool(crisis_languages(text))


# While a crisis is open: news that help is there or things are better ("he is breathing now", "911 is
# coming", "ya viene la ambulancia", "thank you"), answered with thanks, what to do if it gets worse and 988.
# Strict on purpose: a question, a doubt or a "but" ("he's breathing but barely", "ok i took the whole
# bottle") is never news; when unsure, the crisis answer again. A goodbye is never news.
_UPDATE = re.compile("|".join([
    r"^\W*(yes\W+|yeah\W+|ok\W+|okay\W+)?(he|she|they)(\s+is|\s+are|'s|'re|s)?\s+"
    r"(awake|ok|okay|alright|all\s+right|breathing|responding|talking)(\s+(now|again))?\W*$",
    r"^\W*(yes\W+|ok\W+)?(he|she|they)(\s+is|\s+are|'s|'re|s)?\s+(breathing|awake|responding|talking)\s+"
    r"(now|again)(\W+(thank\s+you|thanks|thank\s+god|thx|ty|god\s+bless))*\W*$",
    r"^\W*(ok\W+|okay\W+)?(911|the\s+ambulance|an\s+ambulance|ambulance|paramedics?|ems|police|help)\s+"
    r"(is\s+|are\s+|has\s+|have\s+)?(here|coming|on\s+(the|their|its)\s+way|arrived|came)(\s+now)?\W*$",
    r"^\W*(we\s+|i\s+)?(called|just\s+called)\s+911\W*$",
    r"^\W*(he'?s|she'?s|they'?re|he\s+is|she\s+is|they\s+are|we'?re|we\s+are|they\s+took\s+(him|her|them))\s+"
    r"(at|in|to)\s+the\s+(hospital|er|emergency\s+room)(\s+now)?\W*$",
    r"^\W*(thank\s+you|thanks|thank\s+u|thx|ty|ok|okay|god\s+bless)(\W+(so\s+much|very\s+much|thank\s+you|"
    r"thanks))*\W*$",
    r"^\W*(i'?m|im|i\s+am|we'?re|we\s+are)\s+(not\s+in\s+(any\s+)?danger|safe)(\W+i\s+just\s+(want|wanted|"
    r"need|needed)\s+(some\s+)?(info|information)(\s+about\s+\w+(\s+\w+)?)?)?\W*$",
    r"^\W*i\s+just\s+(want|wanted|need|needed)\s+(some\s+)?(info|information)(\s+about\s+\w+(\s+\w+)?)?\W*$",
]), re.IGNORECASE)
_UPDATE_ES = re.compile("|".join([
    r"^\W*(SI\W+)?(YA\s+)?RESPIRA(NDO)?(\s+(OTRA\s+VEZ|YA|DE\s+NUEVO|BIEN))?\W*$",
    r"^\W*(YA\s+)?(DESPERTO|REACCIONO|ESTA\s+DESPIERT[OA])\W*$",
    r"^\W*(YA\s+)?(VIENE|VIENEN|LLEGO|LLEGARON|ESTA\s+AQUI|ESTAN\s+AQUI|ESTA)\s+(LA\s+|EL\s+|LOS\s+)?"
    r"(AMBULANCIA|PARAMEDICOS|POLICIA|911)\W*$",
    r"^\W*(YA\s+)?(LA\s+)?AMBULANCIA\s+(YA\s+)?(VIENE|LLEGO|ESTA\s+AQUI|ESTA\s+EN\s+CAMINO)\W*$",
    r"^\W*(YA\s+)?(LLAME|LLAMAMOS|LLAMARON)\s+AL\s+911\W*$",
    r"^\W*(YA\s+)?(ESTA|ESTAMOS|LO\s+LLEVARON|LA\s+LLEVARON)\s+(EN|AL)\s+EL\s+HOSPITAL\W*$",
    r"^\W*(YA\s+)?(ESTA|ESTAN)\s+EN\s+EL\s+HOSPITAL\W*$",
    r"^\W*(GRACIAS|MUCHAS\s+GRACIAS|OK|VALE|DIOS\s+LE\s+BENDIGA)(\W+(GRACIAS|MUCHAS\s+GRACIAS))*\W*$",
    r"^\W*NO\s+(ESTOY|ESTAMOS)\s+EN\s+PELIGRO(\W+SOLO\s+(QUIERO|QUERIA|NECESITO|BUSCO)\s+INFORMACION"
    r"(\s+SOBRE\s+\w+(\s+\w+)?)?)?\W*$",
    r"^\W*SOLO\s+(QUIERO|QUERIA|NECESITO|BUSCO)\s+INFORMACION(\s+SOBRE\s+\w+(\s+\w+)?)?\W*$",
]))
_DOUBT = re.compile(r"\?|\b(but|not|no|barely|still|if|whether|slow|slowly|weird|gasping|choking|seiz\w*|"
                    r"pills?|took(?!\s+(him|her|them)\s+to\b)|die|dying|kill|end|gun|cut|jump|bye|goodbye|forever)\b|n't\b|"
                    r"\b(dont|doesnt|didnt|isnt|wasnt|wont|cant|aint|arent|werent|havent|hasnt|couldnt|wouldnt|shouldnt|hadnt|"
                    r"mustnt|dosent|doesent|didint|limp)\b",
                    re.IGNORECASE)
_DOUBT_ES = re.compile(r"\b(PERO|NO|SIGUE|TODAVIA|AUN|SI\s+ESTA|APENAS|POCO|LENTO|PASTILLAS|TOME|MORIR|MATAR|"
                       r"ADIOS|SIEMPRE)\b")


# the doubt words these very phrases use ("not in danger", "no estoy en peligro")
_UPDATE_OK = re.compile(r"^\W*(i'?m|im|i\s+am|we'?re|we\s+are)\s+not\s+in\s+(any\s+)?danger\b(?![^?]*\b(but|"
                        r"pills?|took|kill|die|end|gun|cut|jump)\b)[^?]*$", re.IGNORECASE)
_UPDATE_ES_OK = re.compile(r"^\W*NO\s+(ESTOY|ESTAMOS)\s+EN\s+PELIGRO\b(?!.*\b(PERO|PASTILLAS|TOME|MORIR|MATAR)\b)")


def is_update(text: str) -> bool:
    """News in an open crisis that help is there or things are better: the whole message says only that
    (never a crisis phrase, a question, a doubt or a goodbye)."""
    plain = unicodedata.normalize("NFKC", text).replace("\u2019", "'")
    folded = " ".join(fold(text).split())
    if crisis_languages(_NUMBER.sub(" ", plain)):
        return False
    if (_DOUBT.search(plain) or _DOUBT_ES.search(folded)) and not (_UPDATE_OK.search(plain)
                                                                   or _UPDATE_ES_OK.search(folded)):
        return False
    return bool(_UPDATE.search(plain) or _UPDATE_ES.search(folded))

