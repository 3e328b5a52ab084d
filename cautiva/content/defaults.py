"""The portal texts Cautiva ships: terms of use and the risk-prevention message, in four languages.

Operators replace them per language, for every point or for one (`cautiva text set`). The
wording is short and plain on purpose: people read it on a cheap phone, tired, often in their
second language. Bodies are plain text; a blank line separates paragraphs.
"""

from __future__ import annotations

LANGUAGES = ("es", "en", "fr", "ht")
"""Languages a portal text can be written in."""

DEFAULT_LANGUAGE = "es"


def _paragraphs(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "terms": {
        "es": _paragraphs(
            "Wi-Fi gratis: hasta una hora de internet por sesión.",
            "Esta red es solo para personas de 18 años o más. Al usarla, usted confirma que "
            "tiene 18 años o más y que acepta estas condiciones.",
            "Su correo solo sirve para reconocerle si vuelve. Lo guardamos convertido en un "
            "código, nunca tal como lo escribe, y no lo compartimos con nadie.",
            "Sus respuestas son anónimas. Nos ayudan a entender lo que necesitan las personas y "
            "a mejorar la ayuda. Solo se comparten como cifras.",
            "No use esta red para nada ilegal. Usted es responsable de lo que hace en internet.",
            "No vigilamos lo que hace, pero no podemos garantizar que la red sea segura. El "
            "servicio se ofrece tal como está y puede cortarse en cualquier momento.",
            "Puede dejar de usarla cuando quiera.",
        ),
        "en": _paragraphs(
            "Free Wi-Fi: up to one hour of internet per session.",
            "This network is only for people aged 18 or over. By using it, you confirm that you "
            "are 18 or over and that you accept these terms.",
            "Your email is only used to recognise you if you come back. We keep it as a code, "
            "never as you typed it, and we never share it.",
            "Your answers are anonymous. They help us understand what people need and improve "
            "help. They are only shared as numbers.",
            "Do not use this network for anything illegal. You are responsible for what you do "
            "online.",
            "We do not watch what you do, but we cannot promise that the network is safe. The "
            "service is offered as it is and may stop at any time.",
            "You can stop using it whenever you want.",
        ),
        "fr": _paragraphs(
            "Wi-Fi gratuit : jusqu'à une heure d'internet par session.",
            "Ce réseau est réservé aux personnes de 18 ans ou plus. En l'utilisant, vous "
            "confirmez que vous avez 18 ans ou plus et que vous acceptez ces conditions.",
            "Votre e-mail sert seulement à vous reconnaître si vous revenez. Nous le gardons "
            "sous forme de code, jamais tel que vous l'écrivez, et nous ne le partageons jamais.",
            "Vos réponses sont anonymes. Elles nous aident à comprendre les besoins des "
            "personnes et à améliorer l'aide. Elles sont partagées seulement sous forme de "
            "chiffres.",
            "N'utilisez pas ce réseau pour des choses illégales. Vous êtes responsable de ce "
            "que vous faites sur internet.",
            "Nous ne surveillons pas ce que vous faites, mais nous ne pouvons pas garantir que "
            "le réseau est sûr. Le service est offert tel quel et peut s'arrêter à tout moment.",
            "Vous pouvez arrêter de l'utiliser quand vous voulez.",
        ),
        "ht": _paragraphs(
            "Wi-Fi gratis: jiska yon èdtan entènèt pou chak sesyon.",
            "Rezo sa a se pou moun ki gen 18 an oswa plis sèlman. Lè w itilize l, ou di ou "
            "gen 18 an oswa plis epi ou dakò ak kondisyon sa yo.",
            "Nou sèvi ak imèl ou sèlman pou n rekonèt ou si w tounen. Nou kenbe l tankou yon "
            "kòd, pa janm jan ou ekri l la, epi nou pa janm pataje l.",
            "Repons ou yo anonim. Yo ede nou konprann sa moun bezwen pou n ka ede pi byen. Nou "
            "pataje yo sèlman tankou chif.",
            "Pa itilize rezo sa a pou anyen ki ilegal. Se ou ki responsab sa w fè sou entènèt.",
            "Nou pa siveye sa w fè, men nou pa ka garanti rezo a an sekirite. Nou bay sèvis "
            "la jan li ye a, epi li ka koupe nenpòt ki lè.",
            "Ou ka sispann itilize l nenpòt ki lè ou vle.",
        ),
    },
    "message": {
        "es": _paragraphs(
            "Cuide sus documentos: no se los entregue a nadie. No pague a nadie que le prometa "
            "trabajo, papeles o un viaje.",
            "Desconfíe de las ofertas fáciles: así engañan los tratantes y traficantes de "
            "personas.",
            "Anote en papel los números de emergencia y los de su familia, no solo en el teléfono.",
            "Los niños y las niñas nunca deben viajar solos ni con desconocidos.",
            "Si necesita ayuda, pregunte al personal humanitario. Su ayuda es gratis.",
        ),
        "en": _paragraphs(
            "Keep your documents safe: do not give them to anyone. Do not pay anyone who "
            "promises you a job, papers or a trip.",
            "Be careful with easy offers: this is how traffickers and smugglers trick people.",
            "Write emergency numbers and your family's numbers on paper, not only in your phone.",
            "Children must never travel alone or with strangers.",
            "If you need help, ask humanitarian staff. Their help is free.",
        ),
        "fr": _paragraphs(
            "Gardez vos documents avec vous : ne les donnez à personne. Ne payez personne qui "
            "vous promet un travail, des papiers ou un voyage.",
            "Méfiez-vous des offres trop faciles : c'est comme ça que les trafiquants et les "
            "passeurs trompent les gens.",
            "Notez les numéros d'urgence et ceux de votre famille sur papier, pas seulement "
            "dans le téléphone.",
            "Les enfants ne doivent jamais voyager seuls ni avec des inconnus.",
            "Si vous avez besoin d'aide, demandez au personnel humanitaire. Leur aide est "
            "gratuite.",
        ),
        "ht": _paragraphs(
            "Kenbe dokiman w yo sou ou: pa bay pèsonn yo. Pa peye pèsonn ki pwomèt ou travay, "
            "papye oswa yon vwayaj.",
            "Fè atansyon ak òf ki twò fasil: se konsa moun k ap fè trafik moun twonpe moun.",
            "Ekri nimewo ijans yo ak nimewo fanmi w sou papye, pa sèlman nan telefòn ou.",
            "Timoun pa dwe janm vwayaje poukont yo ni ak moun yo pa konnen.",
            "Si w bezwen èd, mande moun k ap travay nan òganizasyon imanitè yo. Èd yo gratis.",
        ),
    },
}
"""The shipped texts: key -> language -> body."""
