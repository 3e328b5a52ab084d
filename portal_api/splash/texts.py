"""The splash pages' own words in Spanish, English, French and Haitian Creole.

Short sentences and common words: people read these on a small screen, tired, often in their
second language. Operator texts (terms, the risk-prevention message) live in the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

LANGUAGES: Mapping[str, str] = {
    "es": "Español",
    "en": "English",
    "fr": "Français",
    "ht": "Kreyòl ayisyen",
}
DEFAULT_LANGUAGE = "es"

_UI: Mapping[str, Mapping[str, str]] = {
    "title": {
        "es": "Wi-Fi gratis",
        "en": "Free Wi-Fi",
        "fr": "Wi-Fi gratuit",
        "ht": "Wi-Fi gratis",
    },
    "choose_language": {
        "es": "Elija su idioma",
        "en": "Choose your language",
        "fr": "Choisissez votre langue",
        "ht": "Chwazi lang ou",
    },
    "language": {"es": "Idioma", "en": "Language", "fr": "Langue", "ht": "Lang"},
    "intro": {
        "es": "Una hora de internet gratis. Antes, unas preguntas cortas y anónimas.",
        "en": "One hour of free internet. First, a few short anonymous questions.",
        "fr": "Une heure d'internet gratuit. D'abord, quelques questions courtes et anonymes.",
        "ht": "Inè entènèt gratis. Anvan, kèk ti kesyon kout, san non.",
    },
    "consent_title": {
        "es": "Antes de empezar",
        "en": "Before you start",
        "fr": "Avant de commencer",
        "ht": "Anvan ou kòmanse",
    },
    "age_question": {
        "es": "¿Tiene 18 años o más?",
        "en": "Are you 18 or older?",
        "fr": "Avez-vous 18 ans ou plus ?",
        "ht": "Èske ou gen 18 an oswa plis?",
    },
    "yes": {"es": "Sí", "en": "Yes", "fr": "Oui", "ht": "Wi"},
    "no": {"es": "No", "en": "No", "fr": "Non", "ht": "Non"},
    "terms_title": {
        "es": "Condiciones de uso",
        "en": "Terms of use",
        "fr": "Conditions d'utilisation",
        "ht": "Kondisyon itilizasyon",
    },
    "terms_accept": {
        "es": "Leí y acepto las condiciones de uso",
        "en": "I have read and accept the terms of use",
        "fr": "J'ai lu et j'accepte les conditions d'utilisation",
        "ht": "Mwen li epi mwen aksepte kondisyon yo",
    },
    "age_required": {
        "es": "Diga si tiene 18 años o más.",
        "en": "Please say if you are 18 or older.",
        "fr": "Dites si vous avez 18 ans ou plus.",
        "ht": "Tanpri di si ou gen 18 an oswa plis.",
    },
    "minor_title": {
        "es": "Gracias por su visita",
        "en": "Thank you for coming",
        "fr": "Merci de votre visite",
        "ht": "Mèsi paske ou vini",
    },
    "minor_text": {
        "es": "Este servicio es solo para personas adultas. Si necesita ayuda, hable con el "
        "personal humanitario de este lugar: la ayuda es gratis. Si está solo o sola, "
        "pídales que le acompañen.",
        "en": "This service is only for adults. If you need help, talk to the humanitarian "
        "staff here: help is free. If you are alone, ask them to stay with you.",
        "fr": "Ce service est réservé aux adultes. Si vous avez besoin d'aide, parlez au "
        "personnel humanitaire ici : l'aide est gratuite. Si vous êtes seul ou seule, "
        "demandez-leur de vous accompagner.",
        "ht": "Sèvis sa a se pou granmoun sèlman. Si ou bezwen èd, pale ak moun ki travay "
        "nan èd imanitè isit la: èd la gratis. Si ou pou kont ou, mande yo rete avè w.",
    },
    "email_title": {
        "es": "Su correo electrónico",
        "en": "Your email address",
        "fr": "Votre adresse e-mail",
        "ht": "Adrès imel ou",
    },
    "email_label": {
        "es": "Correo electrónico",
        "en": "Email address",
        "fr": "Adresse e-mail",
        "ht": "Adrès imel",
    },
    "email_hint": {
        "es": "Solo sirve para saber si ya vino antes. No lo guardamos ni lo compartimos.",
        "en": "It only tells us if you came before. We do not keep it or share it.",
        "fr": "Elle sert seulement à savoir si vous êtes déjà venu. Nous ne la gardons pas "
        "et ne la partageons pas.",
        "ht": "Li sèvi sèlman pou konnen si ou te deja vini. Nou pa kenbe l, nou pa pataje l.",
    },
    "welcome_back": {
        "es": "Bienvenido o bienvenida de nuevo. Solo unas preguntas más cortas.",
        "en": "Welcome back. Just a few shorter questions.",
        "fr": "Bon retour. Juste quelques questions plus courtes.",
        "ht": "Byenvini ankò. Se kèk kesyon pi kout sèlman.",
    },
    "next": {"es": "Siguiente", "en": "Next", "fr": "Suivant", "ht": "Kontinye"},
    "back": {"es": "Atrás", "en": "Back", "fr": "Retour", "ht": "Retounen"},
    "step": {
        "es": "Paso {n} de {total}",
        "en": "Step {n} of {total}",
        "fr": "Étape {n} sur {total}",
        "ht": "Etap {n} sou {total}",
    },
    "required_mark": {
        "es": "obligatoria",
        "en": "required",
        "fr": "obligatoire",
        "ht": "obligatwa",
    },
    "fix_errors": {
        "es": "Revise las respuestas marcadas.",
        "en": "Please check the marked answers.",
        "fr": "Vérifiez les réponses indiquées.",
        "ht": "Tanpri verifye repons ki make yo.",
    },
    "more_questions": {
        "es": "Según sus respuestas, hay una pregunta más en esta página.",
        "en": "Based on your answers, there is one more question on this page.",
        "fr": "Selon vos réponses, il y a une question de plus sur cette page.",
        "ht": "Dapre repons ou yo, gen yon lòt kesyon sou paj sa a.",
    },
    "choose": {"es": "Elija…", "en": "Choose…", "fr": "Choisissez…", "ht": "Chwazi…"},
    "message_title": {
        "es": "Antes de conectarse",
        "en": "Before you connect",
        "fr": "Avant de vous connecter",
        "ht": "Anvan ou konekte",
    },
    "connect": {
        "es": "Conectarme a internet",
        "en": "Connect me to the internet",
        "fr": "Me connecter à internet",
        "ht": "Konekte m sou entènèt",
    },
    "connect_hint": {
        "es": "Tiene {minutes} minutos de internet gratis.",
        "en": "You have {minutes} minutes of free internet.",
        "fr": "Vous avez {minutes} minutes d'internet gratuit.",
        "ht": "Ou gen {minutes} minit entènèt gratis.",
    },
    "manual_login": {
        "es": "Si no se conecta solo, escriba estos datos en la página de acceso de la red:",
        "en": "If it does not connect by itself, type these on the network's sign-in page:",
        "fr": "Si la connexion ne se fait pas, tapez ceci sur la page de connexion du réseau :",
        "ht": "Si li pa konekte pou kont li, ekri sa yo sou paj koneksyon rezo a:",
    },
    "username": {"es": "Usuario", "en": "Username", "fr": "Identifiant", "ht": "Non itilizatè"},
    "password": {"es": "Clave", "en": "Password", "fr": "Mot de passe", "ht": "Modpas"},
    "connected_title": {
        "es": "Ya está conectado",
        "en": "You are connected",
        "fr": "Vous êtes connecté",
        "ht": "Ou konekte",
    },
    "connected_text": {
        "es": "Tiene internet gratis durante una hora. Cuídese en el camino.",
        "en": "You have free internet for one hour. Take care on your way.",
        "fr": "Vous avez internet gratuit pendant une heure. Prenez soin de vous en route.",
        "ht": "Ou gen entènèt gratis pandan inè. Pran swen tèt ou sou wout la.",
    },
    "continue_to": {
        "es": "Seguir a la página que abrió",
        "en": "Go on to the page you opened",
        "fr": "Aller à la page demandée",
        "ht": "Ale sou paj ou te louvri a",
    },
    "failed_title": {
        "es": "No se pudo conectar",
        "en": "Could not connect",
        "fr": "Connexion impossible",
        "ht": "Pa t ka konekte",
    },
    "failed_text": {
        "es": "La red no aceptó la conexión. Puede intentarlo otra vez.",
        "en": "The network did not accept the connection. You can try again.",
        "fr": "Le réseau n'a pas accepté la connexion. Vous pouvez réessayer.",
        "ht": "Rezo a pa aksepte koneksyon an. Ou ka eseye ankò.",
    },
    "reason": {"es": "Motivo", "en": "Reason", "fr": "Raison", "ht": "Rezon"},
    "start_again": {
        "es": "Empezar de nuevo",
        "en": "Start again",
        "fr": "Recommencer",
        "ht": "Rekòmanse",
    },
    "closed_title": {
        "es": "Punto Wi-Fi no disponible",
        "en": "Wi-Fi point not available",
        "fr": "Point Wi-Fi indisponible",
        "ht": "Pwen Wi-Fi sa a pa disponib",
    },
    "closed_text": {
        "es": "Este punto Wi-Fi no está en servicio. Pida ayuda al personal del lugar.",
        "en": "This Wi-Fi point is not in service. Ask the staff here for help.",
        "fr": "Ce point Wi-Fi n'est pas en service. Demandez de l'aide au personnel.",
        "ht": "Pwen Wi-Fi sa a pa an sèvis. Mande moun ki travay isit la èd.",
    },
    "bad_link_title": {
        "es": "Enlace no válido",
        "en": "This link is not valid",
        "fr": "Lien non valide",
        "ht": "Lyen sa a pa bon",
    },
    "bad_link_text": {
        "es": "La página de acceso no vino de la red Wi-Fi. Desconéctese de la red, vuelva a "
        "conectarse y abra cualquier página.",
        "en": "This sign-in page did not come from the Wi-Fi network. Leave the network, join "
        "it again and open any page.",
        "fr": "Cette page ne vient pas du réseau Wi-Fi. Quittez le réseau, reconnectez-vous "
        "et ouvrez une page.",
        "ht": "Paj sa a pa soti nan rezo Wi-Fi a. Dekonekte, rekonekte sou rezo a epi louvri "
        "nenpòt paj.",
    },
    "expired_title": {
        "es": "La página caducó",
        "en": "This page has expired",
        "fr": "Cette page a expiré",
        "ht": "Paj sa a fin pase",
    },
    "expired_text": {
        "es": "Pasó mucho tiempo o la página se abrió en otro navegador. Empiece de nuevo.",
        "en": "Too much time passed, or the page was opened in another browser. Please start "
        "again.",
        "fr": "Trop de temps a passé, ou la page a été ouverte dans un autre navigateur. "
        "Recommencez.",
        "ht": "Twòp tan pase, oswa paj la te louvri nan yon lòt navigatè. Tanpri rekòmanse.",
    },
    "slow_down_title": {
        "es": "Demasiados intentos",
        "en": "Too many tries",
        "fr": "Trop d'essais",
        "ht": "Twòp eseye",
    },
    "slow_down_text": {
        "es": "Espere un minuto y vuelva a intentarlo.",
        "en": "Wait a minute and try again.",
        "fr": "Attendez une minute et réessayez.",
        "ht": "Tann yon minit epi eseye ankò.",
    },
    "footer": {
        "es": "Servicio humanitario gratuito. Sus respuestas son anónimas.",
        "en": "Free humanitarian service. Your answers are anonymous.",
        "fr": "Service humanitaire gratuit. Vos réponses sont anonymes.",
        "ht": "Sèvis imanitè gratis. Repons ou yo pa gen non w.",
    },
    "referrals_title": {
        "es": "Servicios cerca de usted",
        "en": "Services near you",
        "fr": "Services près d'ici",
        "ht": "Sèvis toupre isit la",
    },
    "referrals_intro": {
        "es": "Según lo que nos dijo, estos lugares pueden ayudarle. Anote lo que le sirva o "
        "tome una captura de pantalla: esta página se cierra al conectarse.",
        "en": "Based on what you told us, these places can help. Write down what is useful or "
        "take a screenshot: this page closes when you connect.",
        "fr": "D'après vos réponses, ces lieux peuvent vous aider. Notez ce qui vous est utile "
        "ou faites une capture d'écran : cette page se ferme quand vous vous connectez.",
        "ht": "Dapre sa ou di nou, kote sa yo ka ede w. Ekri sa ki itil ou oswa fè yon foto "
        "ekran: paj sa a ap fèmen lè ou konekte.",
    },
    "referrals_needs": {
        "es": "Ayuda con:",
        "en": "Helps with:",
        "fr": "Aide pour :",
        "ht": "Ede ak:",
    },
    "referrals_address": {
        "es": "Dirección:",
        "en": "Address:",
        "fr": "Adresse :",
        "ht": "Adrès:",
    },
    "referrals_hours": {
        "es": "Horario:",
        "en": "Opening hours:",
        "fr": "Horaires :",
        "ht": "Lè li ouvè:",
    },
    "referrals_contact": {
        "es": "Contacto:",
        "en": "Contact:",
        "fr": "Contact :",
        "ht": "Kontak:",
    },
    "referrals_languages": {
        "es": "Idiomas que hablan:",
        "en": "Languages spoken:",
        "fr": "Langues parlées :",
        "ht": "Lang yo pale:",
    },
    "continue": {"es": "Continuar", "en": "Continue", "fr": "Continuer", "ht": "Kontinye"},
}

# MikroTik's $(error) and chilli's `reply` are router or RADIUS texts in English; the common ones
# get a translation, anything else is shown as sent (escaped) under "Reason".
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"time|expired|used", re.IGNORECASE), "reason_time"),
    (re.compile(r"invalid|password|user", re.IGNORECASE), "reason_credentials"),
)
_REASON_TEXTS: Mapping[str, Mapping[str, str]] = {
    "reason_time": {
        "es": "Ya usó su hora gratis. Podrá volver a conectarse más tarde.",
        "en": "Your free hour is used up. You can connect again later.",
        "fr": "Votre heure gratuite est terminée. Vous pourrez vous reconnecter plus tard.",
        "ht": "Ou fin itilize inè gratis ou a. Ou ka konekte ankò pita.",
    },
    "reason_credentials": {
        "es": "El código de acceso ya no es válido. Empiece de nuevo.",
        "en": "The access code is no longer valid. Please start again.",
        "fr": "Le code d'accès n'est plus valide. Recommencez.",
        "ht": "Kòd aksè a pa bon ankò. Tanpri rekòmanse.",
    },
}


def negotiate(accept_language: str | None) -> str:
    """The first supported language in an Accept-Language header (by q), else Spanish."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def supported(lang: str | None) -> str | None:
    """`lang` if the portal speaks it, else None."""
    return lang if lang in LANGUAGES else None


class Words:
    """The UI texts in one language, looked up as `words["next"]`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        texts = _UI.get(key) or _REASON_TEXTS[key]
        return texts.get(self.lang) or texts["en"]

    def reason(self, raw: str | None) -> str | None:
        """A translation of a router's failure reason when it is a common one, else None."""
        if not raw:
            return None
        for pattern, key in _REASONS:
            if pattern.search(raw):
                return self[key]
        return None
