"""The patient handout in plain language, English and Spanish: the plan or taper, the next visit, naloxone, storage,
who to call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from guideline.taper_doses import DoseSchedule, DrugDose

LANGUAGES = ("en", "es")

# Every sentence exists in both languages; tests check that no key is missing in either.
TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Your pain treatment plan", "es": "Su plan de tratamiento para el dolor"},
    "prepared": {"en": "Prepared on", "es": "Preparado el"},
    "for": {"en": "For", "es": "Para"},
    "intro": {
        "en": "This sheet is for you and the people who help you. Keep it where you can find it. "
        "Bring it to your next visit.",
        "es": "Esta hoja es para usted y para las personas que le ayudan. Guárdela en un lugar donde pueda "
        "encontrarla. Tráigala a su próxima cita.",
    },
    "medicines_h": {"en": "Your pain medicines now", "es": "Sus medicinas para el dolor ahora"},
    "no_medicines": {
        "en": "Your chart shows no opioid pain medicine right now.",
        "es": "Su expediente no muestra ninguna medicina opioide para el dolor en este momento.",
    },
    "medicines_unknown": {
        "en": "We could not read your medicines from your chart today. Ask us which pain medicines to take.",
        "es": "Hoy no pudimos leer sus medicinas en su expediente. Pregúntenos qué medicinas para el dolor debe tomar.",
    },
    "next_visit": {"en": "Your next visit", "es": "Su próxima cita"},
    "next_visit_why": {
        "en": "We will check how your pain, your daily activities and your goals are going, and any problems with "
        "your medicines.",
        "es": "Veremos cómo van su dolor, sus actividades diarias y sus metas, y si tiene algún problema con sus "
        "medicinas.",
    },
    "goals_h": {"en": "Your goals", "es": "Sus metas"},
    "goals_unknown": {
        "en": "We could not read your goals from your chart today, so some may be missing here. Ask us about the "
        "goals we agreed on.",
        "es": "Hoy no pudimos leer sus metas en su expediente, así que puede faltar alguna aquí. Pregúntenos por las "
        "metas que acordamos.",
    },
    "schedule_h": {"en": "Your schedule for lowering the dose", "es": "Su plan para bajar la dosis"},
    "schedule_intro": {
        "en": "We agreed to lower your dose slowly, step by step. Take the amount in each row from the first "
        "date until the next step begins. Do not take more than the plan says.",
        "es": "Acordamos bajar su dosis poco a poco, paso a paso. Tome la cantidad de cada fila desde la primera "
        "fecha hasta que empiece el paso siguiente. No tome más de lo que dice el plan.",
    },
    "step": {"en": "Step", "es": "Paso"},
    "from": {"en": "From", "es": "Desde"},
    "to": {"en": "Until", "es": "Hasta"},
    "per_day": {"en": "per day", "es": "al día"},
    "none": {"en": "none", "es": "ninguna"},
    "stop_row": {"en": "no more of this medicine", "es": "ya no tome esta medicina"},
    "new_strength": {
        "en": "new strength: check the label on the bottle",
        "es": "concentración nueva: revise la etiqueta del frasco",
    },
    "schedule_slow": {
        "en": "If you feel sick, have more pain, cannot sleep, or feel low or anxious, call us. We can slow down "
        "or pause. You will not be cut off suddenly.",
        "es": "Si se siente mal, tiene más dolor, no puede dormir o se siente triste o ansioso(a), llámenos. "
        "Podemos ir más despacio o hacer una pausa. No le vamos a quitar la medicina de golpe.",
    },
    "schedule_tolerance": {
        "en": "As your dose goes down, your body gets used to less. Going back to an old, higher dose can cause "
        "an overdose.",
        "es": "Cuando la dosis baja, su cuerpo se acostumbra a menos. Volver a tomar una dosis más alta como "
        "antes puede causar una sobredosis.",
    },
    "naloxone_h": {"en": "Naloxone can save your life", "es": "La naloxona puede salvarle la vida"},
    "naloxone_what": {
        "en": "Naloxone (for example Narcan nasal spray) stops an opioid overdose for a short time. Keep it at "
        "home and show your family or friends where it is.",
        "es": "La naloxona (por ejemplo, el aerosol nasal Narcan) detiene una sobredosis de opioides por un "
        "tiempo corto. Tenga naloxona en casa y muéstrele a su familia o a sus amigos dónde está.",
    },
    "naloxone_signs": {
        "en": "Signs of an overdose: the person will not wake up, breathes very slowly or not at all, or has blue "
        "or gray lips.",
        "es": "Señales de una sobredosis: la persona no se despierta, respira muy despacio o no respira, o tiene "
        "los labios morados o grises.",
    },
    "naloxone_1": {
        "en": "Call 911.",
        "es": "Llame al 911.",
    },
    "naloxone_2": {
        "en": "Lay the person on their back. Put the tip of the spray in one nostril and press the plunger.",
        "es": "Acueste a la persona boca arriba. Ponga la punta del aerosol en una fosa nasal y apriete el émbolo.",
    },
    "naloxone_3": {
        "en": "If they do not wake up in 2 to 3 minutes, give a second dose in the other nostril.",
        "es": "Si no se despierta en 2 o 3 minutos, dé una segunda dosis en la otra fosa nasal.",
    },
    "naloxone_4": {
        "en": "Stay with them. Turn them on their side. Naloxone wears off, so they still need emergency care.",
        "es": "Quédese con la persona. Póngala de lado. El efecto de la naloxona se pasa, así que la persona "
        "necesita atención de emergencia de todos modos.",
    },
    "storage_h": {"en": "Keep medicines safe", "es": "Guarde las medicinas de forma segura"},
    "storage_1": {
        "en": "Keep your medicines locked up, out of sight and out of reach of children, teenagers, visitors and pets.",
        "es": "Guarde sus medicinas bajo llave, fuera de la vista y del alcance de niños, adolescentes, visitas "
        "y mascotas.",
    },
    "storage_2": {
        "en": "Never share your medicine, and do not take medicine that was prescribed for someone else.",
        "es": "Nunca comparta su medicina y no tome medicinas recetadas para otra persona.",
    },
    "storage_3": {
        "en": "Do not drink alcohol or take sleeping pills or anxiety medicines with your pain medicine unless "
        "your clinician says it is safe.",
        "es": "No tome alcohol, pastillas para dormir ni medicinas para la ansiedad junto con su medicina para el "
        "dolor, a menos que su médico le diga que es seguro.",
    },
    "disposal_h": {"en": "Get rid of medicine you no longer need", "es": "Deshágase de la medicina que ya no necesita"},
    "disposal_1": {
        "en": "Take leftover medicine to a drop box at a pharmacy or police station, or to a take-back day.",
        "es": "Lleve la medicina que le sobre a un buzón de recolección en una farmacia o estación de policía, o "
        "a un día de devolución de medicinas.",
    },
    "disposal_2": {
        "en": "If there is no drop box near you, ask your pharmacist. The FDA advises flushing many opioid pain "
        "medicines down the toilet when there is no way to return them. Other medicines: mix them with something "
        "unpleasant such as used coffee grounds or cat litter, seal them in a bag, and put the bag in the trash.",
        "es": "Si no hay un buzón cerca, pregunte a su farmacéutico. La FDA recomienda tirar por el inodoro muchas "
        "medicinas opioides para el dolor cuando no hay forma de devolverlas. Las demás medicinas: mézclelas con "
        "algo desagradable, como café ya usado o arena para gatos, póngalas en una bolsa cerrada y tire la bolsa "
        "a la basura.",
    },
    "call_h": {"en": "Who to call", "es": "A quién llamar"},
    "call_clinic": {
        "en": "Your clinic, for questions about your plan, side effects or withdrawal.",
        "es": "Su clínica, si tiene preguntas sobre su plan, efectos secundarios o síntomas de abstinencia.",
    },
    "call_emergency": {"en": "Emergency or overdose: call 911.", "es": "Emergencia o sobredosis: llame al 911."},
    "call_crisis": {
        "en": "If you feel hopeless or think about hurting yourself: call or text 988 (Suicide and Crisis "
        "Lifeline), any time.",
        "es": "Si se siente sin esperanza o piensa en hacerse daño: llame o envíe un mensaje de texto al 988 "
        "(Línea de Prevención del Suicidio y Crisis), a cualquier hora. Hay ayuda en español.",
    },
    "call_poison": {
        "en": "Poison Control, if someone took a medicine by mistake: 1-800-222-1222.",
        "es": "Control de Envenenamientos, si alguien tomó una medicina por error: 1-800-222-1222.",
    },
    "print": {"en": "Print", "es": "Imprimir"},
    "other_language": {"en": "Versión en español", "es": "English version"},
    "back": {"en": "Back to the plan", "es": "Volver al plan"},
}


@dataclass(frozen=True)
class HandoutRow:
    """One step of the schedule in the patient's words: dates and each medicine's tablets per day."""

    step: int
    start: date
    end: date | None
    doses: tuple[str, ...]


@dataclass(frozen=True)
class Handout:
    lang: str
    text: Mapping[str, str]
    medicines: tuple[str, ...]
    goals: tuple[str, ...]
    schedule: tuple[HandoutRow, ...]
    contacts: tuple[Mapping[str, str], ...]
    next_visit: str | None = None  # the follow-up day in words, in the handout's language
    # The goal search failed or was cut off: the sheet says so, never reads as a plan with no goals (or only some).
    goals_unread: bool = False


WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
}  # fmt: skip


def day_in_words(day: date, lang: str) -> str:
    """A date as a patient reads it ("Tuesday, September 15, 2026" / "martes 15 de septiembre de 2026"); the
    numeric forms differ between the two languages' readers (9/15 against 15/9)."""
    weekday, month = WEEKDAYS[lang][day.weekday()], MONTHS[lang][day.month - 1]
    if lang == "es":
        return f"{weekday} {day.day} de {month} de {day.year}"
    return f"{weekday}, {month} {day.day}, {day.year}"


UNIT_WORDS: dict[str, dict[str, tuple[str, str]]] = {  # (one, many)
    "en": {"tablet": ("tablet", "tablets"), "capsule": ("capsule", "capsules")},
    "es": {"tablet": ("tableta", "tabletas"), "capsule": ("cápsula", "cápsulas")},
}


def _contact(entry: Mapping[str, str], lang: str) -> dict[str, str]:
    """A "who to call" line's parts in the handout's language: a description only where the site wrote one in it
    (`description`, `description_es`), never English inside the Spanish sheet."""
    description = entry.get("description") if lang == "en" else entry.get(f"description_{lang}")
    return {"name": entry["name"], "phone": entry["phone"], "description": description or ""}


def language(raw: str | None) -> str:
    return raw if raw in LANGUAGES else "en"


def _dose_words(dose: DrugDose, lang: str) -> str:
    """One medicine at one step, naming the strength in hand: after a switch, the new strength and a warning."""
    if dose.units_per_day == 0:
        return f"{dose.name}: {TEXT['stop_row'][lang]}"
    one, plural = UNIT_WORDS[lang].get(dose.unit_word, (dose.unit_word, dose.unit_word + "s"))
    count = f"{dose.units_display} {plural if dose.units_per_day != 1 else one} {TEXT['per_day'][lang]}"
    if dose.strength_changed:
        strength = format(dose.strength_mg.normalize(), "f")
        return f"{dose.ingredient.lower()} {strength} mg ({TEXT['new_strength'][lang]}): {count}"
    return f"{dose.name}: {count}"


def schedule_rows(schedule: DoseSchedule | None, lang: str) -> tuple[HandoutRow, ...]:
    if schedule is None:
        return ()
    rows = []
    for step in schedule.steps:
        doses = tuple(_dose_words(d, lang) for d in step.doses)
        rows.append(HandoutRow(step.number, step.start, step.end if step.total_mme > 0 else None, doses))
    return tuple(rows)


def build_handout(
    lang: str,
    medicines: Sequence[str],
    goals: Sequence[str],
    schedule: DoseSchedule | None,
    contacts: Sequence[Mapping[str, str]],
    next_visit: date | None = None,
    goals_unread: bool = False,
) -> Handout:
    """The handout in `lang` ('en' or 'es'); medicine names stay as prescribed, the rest is translated.
    `goals_unread`: the goal search was not read in full, so `goals` may be missing some or all."""
    lang = language(lang)
    text = {key: versions[lang] for key, versions in TEXT.items()}
    return Handout(
        lang,
        text,
        tuple(medicines),
        tuple(goals),
        schedule_rows(schedule, lang),
        tuple(_contact(c, lang) for c in contacts if c.get("phone")),
        day_in_words(next_visit, lang) if next_visit else None,
        goals_unread,
    )
