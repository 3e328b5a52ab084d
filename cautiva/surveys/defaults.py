"""The two forms Cautiva ships, written as data and saved as XLSForm workbooks.

Survey teams open `forms/default.xlsx` and `forms/followup.xlsx` in a spreadsheet and adapt them;
this module is where those files come from (`write_default_forms`). The wording is kept short and
plain on purpose: people read it on a phone, tired, often in their second language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook  # type: ignore[import-untyped]

FOLDER = Path(__file__).parent / "forms"
DEFAULT_FORM = FOLDER / "default.xlsx"
FOLLOWUP_FORM = FOLDER / "followup.xlsx"
VERSION = "2026.11.1"

LANGUAGES = (
    ("es", "Español (es)"),
    ("en", "English (en)"),
    ("fr", "Français (fr)"),
    ("ht", "Kreyòl ayisyen (ht)"),
)
# Fixed so that rebuilding the workbooks does not change their metadata.
_STAMP = datetime(2026, 11, 1)


@dataclass(frozen=True, slots=True)
class T:
    """One text in the four languages."""

    es: str
    en: str
    fr: str
    ht: str

    def get(self, lang: str) -> str:
        """The text in `lang`."""
        return str(getattr(self, lang))


@dataclass(frozen=True, slots=True)
class Row:
    """One survey row."""

    type: str
    name: str
    label: T | None = None
    hint: T | None = None
    required: bool = False
    relevant: str = ""
    constraint: str = ""
    constraint_message: T | None = None
    choice_filter: str = ""
    calculation: str = ""


@dataclass(frozen=True, slots=True)
class Option:
    """One choices row; `use` feeds choice_filter in the country lists."""

    list_name: str
    name: str
    label: T
    use: str = ""


@dataclass(frozen=True, slots=True)
class Sheets:
    """A whole form, ready to write."""

    form_id: str
    title: T
    survey: Sequence[Row]
    choices: Sequence[Option] = field(default_factory=tuple)


def _group(name: str, label: T, rows: Sequence[Row], relevant: str = "") -> list[Row]:
    return [Row("begin_group", name, label, relevant=relevant), *rows, Row("end_group", "")]


YES_NO = [
    Option("yes_no", "yes", T("Sí", "Yes", "Oui", "Wi")),
    Option("yes_no", "no", T("No", "No", "Non", "Non")),
]

# ISO 3166 alpha-3 codes, so exports can carry HXL #country+code without a lookup table.
COUNTRIES = [
    ("VEN", T("Venezuela", "Venezuela", "Venezuela", "Venezyela")),
    ("COL", T("Colombia", "Colombia", "Colombie", "Kolonbi")),
    ("ECU", T("Ecuador", "Ecuador", "Équateur", "Ekwatè")),
    ("PER", T("Perú", "Peru", "Pérou", "Pewou")),
    ("BOL", T("Bolivia", "Bolivia", "Bolivie", "Bolivi")),
    ("CHL", T("Chile", "Chile", "Chili", "Chili")),
    ("ARG", T("Argentina", "Argentina", "Argentine", "Ajantin")),
    ("BRA", T("Brasil", "Brazil", "Brésil", "Brezil")),
    ("HTI", T("Haití", "Haiti", "Haïti", "Ayiti")),
    (
        "DOM",
        T(
            "República Dominicana",
            "Dominican Republic",
            "République dominicaine",
            "Repiblik Dominikèn",
        ),
    ),
    ("CUB", T("Cuba", "Cuba", "Cuba", "Kiba")),
    ("PAN", T("Panamá", "Panama", "Panama", "Panama")),
    ("CRI", T("Costa Rica", "Costa Rica", "Costa Rica", "Kosta Rika")),
    ("NIC", T("Nicaragua", "Nicaragua", "Nicaragua", "Nikaragwa")),
    ("HND", T("Honduras", "Honduras", "Honduras", "Ondiras")),
    ("SLV", T("El Salvador", "El Salvador", "Salvador", "Salvadò")),
    ("GTM", T("Guatemala", "Guatemala", "Guatemala", "Gwatemala")),
    ("MEX", T("México", "Mexico", "Mexique", "Meksik")),
    ("USA", T("Estados Unidos", "United States", "États-Unis", "Etazini")),
    ("CAN", T("Canadá", "Canada", "Canada", "Kanada")),
    ("ESP", T("España", "Spain", "Espagne", "Espay")),
]
COUNTRY_CHOICES = [
    *(Option("country", code, label, use="both") for code, label in COUNTRIES),
    Option(
        "country",
        "other",
        T("Otro país", "Another country", "Un autre pays", "Yon lòt peyi"),
        use="both",
    ),
    Option(
        "country",
        "not_sure",
        T("Todavía no sé", "I do not know yet", "Je ne sais pas encore", "Mwen poko konnen"),
        use="to",
    ),
]
NATIONALITY_CHOICES = [
    *(
        Option("nationality", code, label)
        for code, label in COUNTRIES
        if code in ("VEN", "COL", "HTI", "ECU", "PER", "CUB")
    ),
    Option(
        "nationality",
        "other",
        T(
            "Otra nacionalidad",
            "Another nationality",
            "Une autre nationalité",
            "Yon lòt nasyonalite",
        ),
    ),
]
NEEDS_CHOICES = [
    Option("needs", "food", T("Comida", "Food", "Nourriture", "Manje")),
    Option("needs", "water", T("Agua potable", "Drinking water", "Eau potable", "Dlo pou bwè")),
    Option(
        "needs",
        "shelter",
        T(
            "Un lugar para dormir",
            "A place to sleep",
            "Un endroit pour dormir",
            "Yon kote pou dòmi",
        ),
    ),
    Option(
        "needs", "health", T("Atención de salud", "Health care", "Soins de santé", "Swen sante")
    ),
    Option(
        "needs",
        "documentation",
        T(
            "Documentos y ayuda legal",
            "Papers and legal help",
            "Papiers et aide juridique",
            "Papye ak èd legal",
        ),
    ),
    Option("needs", "transport", T("Transporte", "Transport", "Transport", "Transpò")),
    Option("needs", "work", T("Trabajo", "Work", "Travail", "Travay")),
    Option(
        "needs",
        "education",
        T(
            "Escuela para los niños",
            "School for the children",
            "École pour les enfants",
            "Lekòl pou timoun yo",
        ),
    ),
    Option(
        "needs",
        "protection",
        T(
            "Seguridad y protección",
            "Safety and protection",
            "Sécurité et protection",
            "Sekirite ak pwoteksyon",
        ),
    ),
    Option("needs", "information", T("Información", "Information", "Informations", "Enfòmasyon")),
    Option(
        "needs",
        "none",
        T("Nada por ahora", "Nothing right now", "Rien pour le moment", "Anyen pou kounye a"),
    ),
]
RISK_CHOICES = [
    Option(
        "risks",
        "violence",
        T(
            "Violencia o amenazas",
            "Violence or threats",
            "Violence ou menaces",
            "Vyolans oswa menas",
        ),
    ),
    Option("risks", "robbery", T("Robo", "Robbery", "Vol", "Vòl")),
    Option(
        "risks",
        "extortion",
        T(
            "Le pidieron dinero para dejarle pasar",
            "Someone asked for money to let you pass",
            "On vous a demandé de l'argent pour passer",
            "Yo mande w lajan pou kite w pase",
        ),
    ),
    Option(
        "risks",
        "exploitation",
        T(
            "Trabajo forzado o abuso",
            "Forced work or abuse",
            "Travail forcé ou abus",
            "Travay fòse oswa abi",
        ),
    ),
    Option(
        "risks",
        "no_water_food",
        T(
            "Falta de agua o comida",
            "Not enough water or food",
            "Pas assez d'eau ou de nourriture",
            "Pa t gen ase dlo oswa manje",
        ),
    ),
    Option(
        "risks",
        "health",
        T("Problemas de salud", "Health problems", "Problèmes de santé", "Pwoblèm sante"),
    ),
    Option("risks", "other", T("Otra cosa", "Something else", "Autre chose", "Lòt bagay")),
    Option(
        "risks",
        "none",
        T("Nada de esto", "None of these", "Rien de tout cela", "Okenn nan bagay sa yo"),
    ),
    Option(
        "risks",
        "prefer_not",
        T(
            "Prefiero no decirlo",
            "I prefer not to say",
            "Je préfère ne pas répondre",
            "Mwen pito pa di",
        ),
    ),
]
STAY_CHOICES = [
    Option("stay", "hours", T("Unas horas", "A few hours", "Quelques heures", "Kèk èdtan")),
    Option("stay", "days", T("Unos días", "A few days", "Quelques jours", "Kèk jou")),
    Option("stay", "weeks", T("Unas semanas", "A few weeks", "Quelques semaines", "Kèk semèn")),
    Option(
        "stay",
        "months",
        T("Un mes o más", "A month or more", "Un mois ou plus", "Yon mwa oswa plis"),
    ),
    Option(
        "stay",
        "not_sure",
        T("Todavía no sé", "I do not know yet", "Je ne sais pas encore", "Mwen poko konnen"),
    ),
]

CITY = T(
    "Ciudad o pueblo (puede dejarlo vacío)",
    "City or town (you can leave it empty)",
    "Ville ou village (vous pouvez laisser vide)",
    "Vil oswa bouk (ou ka kite l vid)",
)
COMING_FROM = Row(
    "select_one country",
    "coming_from",
    T(
        "¿De qué país viene ahora?",
        "Which country are you coming from now?",
        "De quel pays venez-vous maintenant ?",
        "Ki peyi w soti kounye a?",
    ),
    hint=T(
        "El último país donde estuvo.",
        "The last country where you stayed.",
        "Le dernier pays où vous êtes resté.",
        "Dènye peyi kote w te rete.",
    ),
    required=True,
    choice_filter="use = 'both'",
)
GOING_TO = Row(
    "select_one country",
    "going_to",
    T(
        "¿A qué país va?",
        "Which country are you going to?",
        "Dans quel pays allez-vous ?",
        "Nan ki peyi w prale?",
    ),
    required=True,
)
NEEDS = Row(
    "select_multiple needs",
    "needs",
    T(
        "¿Qué necesita más su grupo ahora?",
        "What does your group need most now?",
        "De quoi votre groupe a-t-il le plus besoin maintenant ?",
        "Kisa gwoup ou bezwen plis kounye a?",
    ),
    hint=T(
        "Puede elegir varias respuestas.",
        "You can choose several answers.",
        "Vous pouvez choisir plusieurs réponses.",
        "Ou ka chwazi plizyè repons.",
    ),
    required=True,
    constraint="not(selected(., 'none') and count-selected(.) > 1)",
    constraint_message=T(
        "«Nada por ahora» no puede ir con otras respuestas.",
        "'Nothing right now' cannot go with other answers.",
        "« Rien pour le moment » ne peut pas aller avec d'autres réponses.",
        "«Anyen pou kounye a» pa ka ale ak lòt repons.",
    ),
)
THANKS = Row(
    "note",
    "thanks",
    T(
        "Gracias. Ya puede conectarse a internet.",
        "Thank you. You can now connect to the internet.",
        "Merci. Vous pouvez maintenant vous connecter à internet.",
        "Mèsi. Kounye a ou ka konekte sou entènèt.",
    ),
)

_AGE_BANDS = [
    (
        "girls_0_5",
        T(
            "Niñas de 0 a 5 años",
            "Girls from 0 to 5 years",
            "Filles de 0 à 5 ans",
            "Tifi ki gen 0 a 5 an",
        ),
    ),
    (
        "boys_0_5",
        T(
            "Niños de 0 a 5 años",
            "Boys from 0 to 5 years",
            "Garçons de 0 à 5 ans",
            "Tigason ki gen 0 a 5 an",
        ),
    ),
    (
        "girls_6_17",
        T(
            "Niñas y chicas de 6 a 17 años",
            "Girls from 6 to 17 years",
            "Filles de 6 à 17 ans",
            "Tifi ki gen 6 a 17 an",
        ),
    ),
    (
        "boys_6_17",
        T(
            "Niños y chicos de 6 a 17 años",
            "Boys from 6 to 17 years",
            "Garçons de 6 à 17 ans",
            "Tigason ki gen 6 a 17 an",
        ),
    ),
    (
        "women_18_59",
        T(
            "Mujeres de 18 a 59 años",
            "Women from 18 to 59 years",
            "Femmes de 18 à 59 ans",
            "Fanm ki gen 18 a 59 an",
        ),
    ),
    (
        "men_18_59",
        T(
            "Hombres de 18 a 59 años",
            "Men from 18 to 59 years",
            "Hommes de 18 à 59 ans",
            "Gason ki gen 18 a 59 an",
        ),
    ),
    (
        "women_60",
        T(
            "Mujeres de 60 años o más",
            "Women 60 years or older",
            "Femmes de 60 ans ou plus",
            "Fanm ki gen 60 an oswa plis",
        ),
    ),
    (
        "men_60",
        T(
            "Hombres de 60 años o más",
            "Men 60 years or older",
            "Hommes de 60 ans ou plus",
            "Gason ki gen 60 an oswa plis",
        ),
    ),
]
_BAND_RANGE = T(
    "Escriba un número del 0 al 50.",
    "Write a number from 0 to 50.",
    "Écrivez un nombre entre 0 et 50.",
    "Ekri yon nimewo ant 0 ak 50.",
)
_SUM = " + ".join(f"${{{name}}}" for name, _ in _AGE_BANDS[:-1])


def _band(name: str, label: T, last: bool) -> Row:
    if not last:
        return Row(
            "integer",
            name,
            label,
            required=True,
            constraint=". >= 0 and . <= 50",
            constraint_message=_BAND_RANGE,
        )
    # The sum is checked on the last band, once every number of the page is known.
    return Row(
        "integer",
        name,
        label,
        required=True,
        constraint=f". >= 0 and {_SUM} + . = ${{group_size}}",
        constraint_message=T(
            "Los números deben sumar el total de personas de su grupo. Revíselos, por favor.",
            "The numbers must add up to the number of people in your group. Please check them.",
            "Le total doit être égal au nombre de personnes de votre groupe. "
            "Vérifiez les chiffres.",
            "Total la dwe egal ak kantite moun ki nan gwoup ou. Tanpri verifye chif yo.",
        ),
    )


def default_form() -> Sheets:
    """The welcome form: who travels, from where to where, what they need, what they met."""
    group = [
        Row(
            "note",
            "welcome",
            T(
                "Unas preguntas cortas antes de conectarse. Sus respuestas nos ayudan a organizar "
                "la ayuda. No le pedimos su nombre.",
                "A few short questions before you connect. Your answers help us plan aid. "
                "We do not ask your name.",
                "Quelques questions courtes avant de vous connecter. Vos réponses nous aident à "
                "organiser l'aide. Nous ne demandons pas votre nom.",
                "Kèk ti kesyon anvan ou konekte. Repons ou yo ede nou òganize èd la. "
                "Nou pa mande non ou.",
            ),
        ),
        Row(
            "integer",
            "group_size",
            T(
                "¿Cuántas personas viajan en su grupo, contándose a usted?",
                "How many people travel in your group, counting yourself?",
                "Combien de personnes voyagent dans votre groupe, vous compris ?",
                "Konbyen moun k ap vwayaje nan gwoup ou, avè w ladan l?",
            ),
            hint=T(
                "Si viaja solo o sola, escriba 1.",
                "If you travel alone, write 1.",
                "Si vous voyagez seul ou seule, écrivez 1.",
                "Si w ap vwayaje pou kont ou, ekri 1.",
            ),
            required=True,
            constraint=". >= 1 and . <= 50",
            constraint_message=T(
                "Escriba un número del 1 al 50.",
                "Write a number from 1 to 50.",
                "Écrivez un nombre entre 1 et 50.",
                "Ekri yon nimewo ant 1 ak 50.",
            ),
        ),
    ]
    who = [
        Row(
            "note",
            "ages",
            T(
                "¿Cuántas personas de cada edad hay en su grupo? Cuéntese también. "
                "Escriba 0 si no hay nadie.",
                "How many people of each age are in your group? Count yourself too. "
                "Write 0 if there is nobody.",
                "Combien de personnes de chaque âge y a-t-il dans votre groupe ? Comptez-vous "
                "aussi. Écrivez 0 s'il n'y a personne.",
                "Konbyen moun nan chak laj ki nan gwoup ou? Konte tèt ou tou. "
                "Ekri 0 si pa gen pèsonn.",
            ),
        ),
        *(
            _band(name, label, i == len(_AGE_BANDS) - 1)
            for i, (name, label) in enumerate(_AGE_BANDS)
        ),
        Row(
            "calculate",
            "children",
            calculation=" + ".join(f"${{{name}}}" for name, _ in _AGE_BANDS[:4]),
        ),
        Row(
            "calculate",
            "females",
            calculation=" + ".join(
                f"${{{name}}}" for name, _ in _AGE_BANDS if name.startswith(("girls", "women"))
            ),
        ),
        Row(
            "calculate",
            "males",
            calculation=" + ".join(
                f"${{{name}}}" for name, _ in _AGE_BANDS if name.startswith(("boys", "men"))
            ),
        ),
    ]
    journey = [
        Row(
            "select_one nationality",
            "nationality",
            T(
                "¿Cuál es su nacionalidad?",
                "What is your nationality?",
                "Quelle est votre nationalité ?",
                "Ki nasyonalite ou?",
            ),
            required=True,
        ),
        Row(
            "text",
            "nationality_other",
            T(
                "¿Cuál nacionalidad?",
                "Which nationality?",
                "Quelle nationalité ?",
                "Ki nasyonalite?",
            ),
            required=True,
            relevant="${nationality} = 'other'",
        ),
        COMING_FROM,
        Row("text", "coming_from_place", CITY),
        GOING_TO,
        Row("text", "going_to_place", CITY),
        Row(
            "select_one stay",
            "stay",
            T(
                "¿Cuánto tiempo piensa quedarse aquí?",
                "How long do you plan to stay here?",
                "Combien de temps pensez-vous rester ici ?",
                "Konbyen tan ou panse rete isit la?",
            ),
            required=True,
        ),
    ]
    on_the_way = [
        Row(
            "select_multiple risks",
            "risks",
            T(
                "¿Le pasó algo de esto a usted o a su grupo en el camino?",
                "Did any of these happen to you or your group on the way?",
                "Est-ce qu'une de ces choses vous est arrivée, à vous ou à votre groupe, "
                "pendant le voyage ?",
                "Èske youn nan bagay sa yo te rive w oswa gwoup ou sou wout la?",
            ),
            hint=T(
                "Puede elegir varias respuestas. Su respuesta es privada.",
                "You can choose several answers. Your answer stays private.",
                "Vous pouvez choisir plusieurs réponses. Votre réponse reste privée.",
                "Ou ka chwazi plizyè repons. Repons ou rete prive.",
            ),
            required=True,
            constraint="not((selected(., 'none') or selected(., 'prefer_not')) "
            "and count-selected(.) > 1)",
            constraint_message=T(
                "«Nada de esto» y «Prefiero no decirlo» no pueden ir con otras respuestas.",
                "'None of these' and 'I prefer not to say' cannot go with other answers.",
                "« Rien de tout cela » et « Je préfère ne pas répondre » ne peuvent pas aller "
                "avec d'autres réponses.",
                "«Okenn nan bagay sa yo» ak «Mwen pito pa di» pa ka ale ak lòt repons.",
            ),
        ),
        Row(
            "select_one yes_no",
            "risks_help",
            T(
                "¿Quiere saber dónde encontrar ayuda cerca de aquí?",
                "Would you like to know where to find help near here?",
                "Voulez-vous savoir où trouver de l'aide près d'ici ?",
                "Èske ou vle konnen ki kote pou jwenn èd toupre isit la?",
            ),
            required=True,
            relevant="count-selected(${risks}) > 0 and not(selected(${risks}, 'none')) "
            "and not(selected(${risks}, 'prefer_not'))",
        ),
    ]
    messages = [
        Row(
            "select_one yes_no",
            "consent_messages",
            T(
                "¿Acepta recibir mensajes nuestros con información útil sobre ayuda, servicios "
                "y seguridad?",
                "Do you agree to receive messages from us with useful information about help, "
                "services and safety?",
                "Acceptez-vous de recevoir nos messages avec des informations utiles sur l'aide, "
                "les services et la sécurité ?",
                "Èske ou dakò resevwa mesaj nou ak enfòmasyon itil sou èd, sèvis ak sekirite?",
            ),
            hint=T(
                "Puede decir que no. Igual tendrá Wi-Fi.",
                "You can say no. You will still get Wi-Fi.",
                "Vous pouvez dire non. Vous aurez quand même le Wi-Fi.",
                "Ou ka di non. W ap toujou gen Wi-Fi.",
            ),
            required=True,
        ),
        THANKS,
    ]
    return Sheets(
        form_id="cautiva_default",
        title=T(
            "Encuesta de bienvenida", "Welcome survey", "Questionnaire d'accueil", "Ankèt byenveni"
        ),
        survey=[
            *_group("group", T("Su grupo", "Your group", "Votre groupe", "Gwoup ou"), group),
            *_group(
                "who", T("Quiénes viajan", "Who travels", "Qui voyage", "Ki moun k ap vwayaje"), who
            ),
            *_group("journey", T("Su viaje", "Your journey", "Votre voyage", "Vwayaj ou"), journey),
            *_group(
                "needs_page",
                T(
                    "Necesidades y seguridad",
                    "Needs and safety",
                    "Besoins et sécurité",
                    "Bezwen ak sekirite",
                ),
                [NEEDS, *on_the_way],
            ),
            *_group("messages", T("Mensajes", "Messages", "Messages", "Mesaj"), messages),
        ],
        choices=[
            *YES_NO,
            *COUNTRY_CHOICES,
            *NATIONALITY_CHOICES,
            *NEEDS_CHOICES,
            *RISK_CHOICES,
            *STAY_CHOICES,
        ],
    )


def followup_form() -> Sheets:
    """The short form for people who come back: where they are, where they go, what they need."""
    here = [
        Row(
            "note",
            "welcome_back",
            T(
                "Hola de nuevo. Tres preguntas cortas y luego puede conectarse.",
                "Welcome back. Three short questions, then you can connect.",
                "Re-bonjour. Trois questions courtes, puis vous pouvez vous connecter.",
                "Bonjou ankò. Twa ti kesyon, epi ou ka konekte.",
            ),
        ),
        Row(
            "select_one country",
            "current_country",
            T(
                "¿En qué país está ahora?",
                "Which country are you in now?",
                "Dans quel pays êtes-vous maintenant ?",
                "Nan ki peyi ou ye kounye a?",
            ),
            required=True,
            choice_filter="use = 'both'",
        ),
        Row("text", "current_place", CITY),
    ]
    going = [GOING_TO, Row("text", "going_to_place", CITY)]
    return Sheets(
        form_id="cautiva_followup",
        title=T(
            "Encuesta de seguimiento", "Follow-up survey", "Questionnaire de suivi", "Ankèt swivi"
        ),
        survey=[
            *_group(
                "here",
                T(
                    "Dónde está ahora",
                    "Where you are now",
                    "Où vous êtes maintenant",
                    "Kote ou ye kounye a",
                ),
                here,
            ),
            *_group(
                "going",
                T("A dónde va", "Where you are going", "Où vous allez", "Ki kote w prale"),
                going,
            ),
            *_group(
                "needs_page",
                T("Sus necesidades", "Your needs", "Vos besoins", "Bezwen ou"),
                [NEEDS, THANKS],
            ),
        ],
        choices=[*COUNTRY_CHOICES, *NEEDS_CHOICES],
    )


def _texts(text: T | None) -> list[str]:
    return [text.get(code) if text else "" for code, _ in LANGUAGES]


def _headers(prefix: str) -> list[str]:
    return [f"{prefix}::{header}" for _, header in LANGUAGES]


def write_workbook(sheets: Sheets, path: Path) -> None:
    """Save `sheets` as an XLSForm workbook at `path`."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(
        [
            "type",
            "name",
            *_headers("label"),
            *_headers("hint"),
            "required",
            "relevant",
            "constraint",
            *_headers("constraint_message"),
            "choice_filter",
            "calculation",
        ]
    )
    for row in sheets.survey:
        survey.append(
            [
                row.type,
                row.name,
                *_texts(row.label),
                *_texts(row.hint),
                "yes" if row.required else "",
                row.relevant,
                row.constraint,
                *_texts(row.constraint_message),
                row.choice_filter,
                row.calculation,
            ]
        )
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", *_headers("label"), "use"])
    for option in sheets.choices:
        choices.append([option.list_name, option.name, *_texts(option.label), option.use])
    settings = book.create_sheet("settings")
    settings.append(
        ["form_id", "version", "form_title", *_headers("form_title"), "default_language"]
    )
    settings.append(
        [sheets.form_id, VERSION, sheets.title.es, *_texts(sheets.title), LANGUAGES[0][1]]
    )
    for sheet in book.worksheets:
        sheet.freeze_panes = "C2" if sheet.title == "survey" else "A2"
    book.properties.created = _STAMP
    book.properties.modified = _STAMP
    book.properties.creator = "Cautiva"
    buffer = BytesIO()
    book.save(buffer)
    path.write_bytes(_steady(buffer.getvalue()))


def _steady(workbook: bytes) -> bytes:
    """The same workbook with fixed dates inside, so a rebuild without changes changes no byte."""
    steady = BytesIO()
    with ZipFile(BytesIO(workbook)) as source, ZipFile(steady, "w", ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                    rb"\g<1>" + _STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    data,
                )
            fixed = ZipInfo(item.filename, date_time=_STAMP.timetuple()[:6])
            fixed.compress_type = ZIP_DEFLATED
            target.writestr(fixed, data)
    return steady.getvalue()


def write_default_forms(folder: Path = FOLDER) -> tuple[Path, Path]:
    """Write `default.xlsx` and `followup.xlsx` into `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    default, followup = folder / DEFAULT_FORM.name, folder / FOLLOWUP_FORM.name
    write_workbook(default_form(), default)
    write_workbook(followup_form(), followup)
    return default, followup


if __name__ == "__main__":
    for written in write_default_forms():
        print(written)
