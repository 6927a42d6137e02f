"""A fictional demo partnership: four audits on the starting tools, loaded through the services."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from audit_tools.registry import ToolRegistry
from schemas.audit import (
    Actor,
    AgeBand,
    AuditDetail,
    AuditPlan,
    AuditStatus,
    CaseProfile,
    FindingChange,
    Gender,
    LevelOfNeed,
    ModerationHeading,
    Send,
    VoiceSource,
)
from schemas.tools import NOT_APPLICABLE, NOT_EVIDENCED, ToolDefinition
from workbench.services import audits, casework, demo_learning, returns
from workbench.services.errors import InvalidRequestError
from workbench.services.unit import SessionFactory

# Everything below is invented. People appear only by role ("the social worker", "Mother",
# "Child A"); there are no names, places, organisations, dates of birth or contact details.
# Nothing is random: text and grades come from fixed tables and a CRC of stable keys, so
# the same `today` always gives the same demo.

# The Ofsted four-point scale's keys, which all three starting tools use.
OUTSTANDING = "outstanding"
GOOD = "good"
REQUIRES_IMPROVEMENT = "requires_improvement"
INADEQUATE = "inadequate"


@dataclass(frozen=True)
class _Role:
    """How an agency's auditor refers to its own practitioner and records."""

    worker: str
    agency: str
    record: str
    record2: str
    auditor: str


_ROLES: dict[str, _Role] = {
    "childrens-social-care": _Role(
        "the social worker",
        "children's social care",
        "case note",
        "supervision record",
        "Children's social care auditor",
    ),
    "early-help": _Role(
        "the early help practitioner",
        "early help",
        "early help record",
        "family plan review",
        "Early help auditor",
    ),
    "police": _Role(
        "the officer in the case", "police", "incident log", "crime report", "Police auditor"
    ),
    "probation": _Role(
        "the probation practitioner",
        "probation",
        "probation case record",
        "risk of harm assessment",
        "Probation auditor",
    ),
    "youth-justice": _Role(
        "the youth justice case manager",
        "the youth justice service",
        "youth justice record",
        "youth justice assessment",
        "Youth justice auditor",
    ),
    "acute-health": _Role(
        "the emergency department safeguarding nurse",
        "the hospital trust",
        "ED record",
        "safeguarding team notes",
        "Hospital trust safeguarding auditor",
    ),
    "community-health": _Role(
        "the school nurse",
        "community health",
        "health record",
        "safeguarding supervision note",
        "Community health auditor",
    ),
    "gp": _Role(
        "the GP",
        "the GP practice",
        "GP record",
        "practice safeguarding meeting minutes",
        "GP safeguarding lead auditor",
    ),
    "camhs": _Role(
        "the CAMHS clinician", "CAMHS", "CAMHS record", "CAMHS triage note", "CAMHS auditor"
    ),
    "adult-mental-health": _Role(
        "the community mental health nurse",
        "adult mental health services",
        "clinical record",
        "care plan review",
        "Adult mental health auditor",
    ),
    "school": _Role(
        "the DSL", "the school", "DSL log", "attendance register", "School DSL auditor"
    ),
    "early-years": _Role(
        "the nursery key worker",
        "the nursery",
        "nursery safeguarding log",
        "learning journal",
        "Early years auditor",
    ),
    "housing": _Role(
        "the housing officer",
        "housing",
        "housing case record",
        "homelessness assessment",
        "Housing auditor",
    ),
    "adult-social-care": _Role(
        "the adult social care worker",
        "adult social care",
        "adult social care record",
        "care and support assessment",
        "Adult social care auditor",
    ),
    "substance-misuse": _Role(
        "the recovery worker",
        "the substance misuse service",
        "key work record",
        "recovery plan",
        "Substance misuse service auditor",
    ),
    "voluntary-sector": _Role(
        "the support worker",
        "the voluntary sector project",
        "project contact log",
        "support plan",
        "Voluntary sector auditor",
    ),
    "sexual-health": _Role(
        "the sexual health nurse",
        "the sexual health service",
        "clinic record",
        "under-18 risk assessment",
        "Sexual health auditor",
    ),
}

_ROLE_FOR_TOOL: dict[tuple[str, str], _Role] = {
    ("cse", "police"): _Role(
        "the missing person coordinator",
        "police",
        "missing person report",
        "intelligence log",
        "Police auditor",
    ),
    ("cse", "voluntary-sector"): _Role(
        "the exploitation support worker",
        "the exploitation project",
        "project contact log",
        "support plan",
        "Voluntary sector auditor",
    ),
    ("domestic-abuse", "community-health"): _Role(
        "the health visitor",
        "health visiting",
        "health visiting record",
        "family health needs assessment",
        "Community health auditor",
    ),
}


def _role(tool_id: str, agency: str) -> _Role:
    return _ROLE_FOR_TOOL.get((tool_id, agency), _ROLES[agency])


@dataclass(frozen=True)
class _Bank:
    """What auditors typically write for one criterion, by how well the practice did."""

    topic: str
    good: tuple[str, ...]
    mixed: tuple[str, ...]
    poor: tuple[str, ...]
    strengths: tuple[str, ...]
    development: tuple[str, ...]


# Placeholders: {child} {worker} {agency} {record} {record2} {m1} {m2} {m3} (months, oldest
# first) {d1} {d2} {d3} (day/month in those months) and the case's own facts.
_BANKS: dict[str, _Bank] = {
    # Child sexual exploitation.
    "cse-1.1": _Bank(
        "recognising exploitation indicators",
        (
            "In {m1} {worker} recorded {gifts} and {associates} as possible exploitation "
            "indicators and discussed them with the safeguarding lead the same day ({record} "
            "{d1}); a referral to the front door followed within 24 hours.",
            "The {record} of {d1} names {associates} and {missing} as indicators of "
            "exploitation; {worker} consulted a manager and referred on the same week, and the "
            "language used describes {child} as a victim throughout.",
        ),
        (
            "Indicators were noted from {m1} ({associates}, {gifts}) but the first referral was "
            "not made until {m2} ({record} {d2}), after a further missing episode; the gap of "
            "several weeks is not explained.",
        ),
        (
            "The {record} holds entries from {m1} describing {associates} and {gifts}, but no "
            "response is recorded until {m3}; the entry of {d1} describes {child} as 'choosing "
            "to hang around with older lads'.",
        ),
        (
            "Indicators were named as exploitation rather than behaviour and escalated promptly.",
            "{worker} was curious about where the gifts came from and wrote down what {child} "
            "said.",
        ),
        (
            "Act on indicators when first seen rather than waiting for a further incident, and "
            "start the screening tool at the first concern.",
            "Avoid language that implies {child} chose the risk; record each indicator with the "
            "action taken.",
        ),
    ),
    "cse-1.2": _Bank(
        "health recognition of exploitation",
        (
            "At the attendance in {m2} ({record} {d2}) {worker} noted {health}, asked who had "
            "come with {child} and completed the young person's exploitation screening "
            "questions; a safeguarding referral was made the same day and a flag added.",
        ),
        (
            "{health} in {m2} was recorded and the screening questions were asked, but the "
            "earlier attendance in {m1} was not linked to it and the named nurse was not "
            "consulted until {m3} ({record} {d3}).",
        ),
        (
            "Three contacts between {m1} and {m3}, including {health}, were treated as separate "
            "episodes: no screening questions, no note of who accompanied {child} and no "
            "referral ({record} {d1}, {d2} and {d3}).",
        ),
        (
            "Professional curiosity about who accompanied {child}, and a referral that set out "
            "the pattern of attendances.",
        ),
        (
            "Look across attendances for a pattern and ask the screening questions at every "
            "contact with an under-18; discuss with the named nurse when in doubt.",
        ),
    ),
    "cse-1.3": _Bank(
        "absence and exclusion as risk indicators",
        (
            "The {record} shows {school} analysed alongside the missing episodes from {m1}; the "
            "social worker was told the same day whenever {child} was absent without "
            "explanation ({record2} and {record} {d1}), and a risk assessment preceded the "
            "reduced timetable in {m3}.",
        ),
        (
            "{school} was shared with the social worker, but handled mainly through attendance "
            "letters until {m2}; the one-day suspension on {d2} went ahead without a risk "
            "assessment.",
        ),
        (
            "{school} was handled only as an attendance matter (three letters and a warning of "
            "a fine); the suspension on {d2} and the part-time timetable from {m3} had no risk "
            "assessment and the social worker was not told.",
        ),
        (
            "Attendance was analysed by day and lesson and linked to the times {child} went "
            "missing.",
        ),
        (
            "Risk-assess before any suspension or reduced timetable, and tell the social worker "
            "the same day when {child} is absent without explanation.",
        ),
    ),
    "cse-2.1": _Bank(
        "exploitation screening",
        (
            "The exploitation screening tool dated {d1} records evidence, source and date "
            "against each indicator, including information from {agency}, and sets an overall "
            "risk of {risk} with a manager's sign-off; the assessment in {m2} draws on it.",
        ),
        (
            "A screening tool was completed on {d1} with a {risk} risk level, but several "
            "indicators are ticked without evidence and the rationale for the overall level is "
            "one line.",
        ),
        (
            "No screening tool is on file for the look-back; the {record} of {d2} refers to "
            "'CSE risk' with no assessment behind it.",
        ),
        ("Evidence recorded indicator by indicator, so a reader can see why the level was set.",),
        (
            "Record the evidence and its source against every indicator ticked, and explain the "
            "overall risk level.",
        ),
    ),
    "cse-2.2": _Bank(
        "reviewing risk when things changed",
        (
            "After the missing episode in {m2} and new information about {associates}, the risk "
            "assessment was reviewed within four days ({record} {d2}); the strategy meeting "
            "minutes of {d3} record the level rising to {risk} and the plan changing.",
        ),
        (
            "Risk was reviewed after the strategy meeting on {d2}, but not after the two "
            "missing episodes in {m3}; the {record} notes new associates without linking them "
            "to the assessment.",
        ),
        (
            "The risk level set in {m1} was not revisited despite {missing} and reports of "
            "{associates}; no review is recorded in the look-back.",
        ),
        ("Reviews were triggered by events, not the calendar, and each records what changed.",),
        (
            "Review the risk assessment within days of a missing episode or new associates and "
            "record the change in the plan.",
        ),
    ),
    "cse-3.1": _Bank(
        "return home interviews",
        (
            "Return home interviews were offered within 72 hours for each of {missing} (RHI log "
            "matched against the police reports); all were done by the independent worker, and "
            "attempts when {child} declined are recorded.",
        ),
        (
            "Interviews were offered for most of {missing}, but two offers in {m2} came after "
            "five and six days and one episode has no interview and no reason recorded "
            "({record} {d2}).",
        ),
        (
            "Only one return home interview is on file for {missing}; the others have no offer "
            "recorded, and the one held on {d3} was done by the allocated worker with no reason "
            "given.",
        ),
        ("Persistent, flexible offers: different times and places until {child} agreed to talk.",),
        (
            "Offer an independent interview within 72 hours for every episode and record the "
            "reason when one does not happen.",
        ),
    ),
    "cse-3.2": _Bank(
        "sharing return home interview findings",
        (
            "The interview on {d2} named {place}; {worker} received the findings within two "
            "days and added them to the {record}, and the location was on the exploitation "
            "panel's map within the week.",
        ),
        (
            "Interview findings reached {agency} only at the strategy meeting on {d3}, two "
            "weeks after the interview; they are not reflected in the {record}.",
        ),
        (
            "There is no record that {agency} received or shared any interview findings; {place} "
            "appears in the interview of {d2} but nowhere in the {record}.",
        ),
        ("Interview findings fed directly into the risk assessment and the intelligence picture.",),
        (
            "Agree a route for interview findings to reach every agency within two working days "
            "and record what was done with them.",
        ),
    ),
    "cse-3.3": _Bank(
        "strategy meetings and plans",
        (
            "A strategy meeting was held on {d2} after the third missing episode with all "
            "agencies present; the minutes record a decision to start enquiries, an "
            "exploitation plan with named owners and a review on {d3} that was kept.",
        ),
        (
            "A strategy meeting was held on {d2}, but only after {missing}; the plan's actions "
            "have no timescales and the review slipped by five weeks.",
        ),
        (
            "{missing} passed without a strategy meeting; the one meeting, on {d3}, produced a "
            "generic plan ('professionals to monitor') and no review is recorded.",
        ),
        (
            "A specific plan with owners and timescales, and every action due from {agency} was "
            "done by the review.",
        ),
        (
            "Hold a strategy meeting when the local threshold for missing episodes is reached, "
            "and give each action an owner and a date.",
        ),
    ),
    "cse-4.1": _Bank(
        "sharing intelligence on associates and places",
        (
            "{worker} submitted intelligence on {associates} and {place} on {d1} and {d2}, and "
            "{agency} contributed to the location mapping at the exploitation panel in {m2}.",
        ),
        (
            "Information about {associates} was passed to police by phone in {m1}, but no "
            "intelligence form was completed and {place} was not shared until the panel in "
            "{m3}.",
        ),
        (
            "The {record} of {d1} names {associates} and {place}, but there is no record that "
            "either was passed to police or the exploitation panel.",
        ),
        (
            "Small pieces of information (a car, a first name, an address) were shared through "
            "the agreed route.",
        ),
        (
            "Submit intelligence through the agreed form whenever associates, vehicles or places "
            "are named, and record that it was sent.",
        ),
    ),
    "cse-4.2": _Bank(
        "disruption",
        (
            "Disruption was discussed at the exploitation panel on {d2}: a warning notice was "
            "served on an adult linked to {place} and patrols were targeted; the review on {d3} "
            "records fewer sightings of {child} there.",
        ),
        (
            "Disruption options were listed at the strategy meeting on {d2}, but no decision or "
            "follow-up is recorded; the plan mainly restricts {child}'s movements.",
        ),
        (
            "The plan relies on {child} staying away from {place}; no disruption of the adults "
            "involved was considered by {agency} in the look-back.",
        ),
        ("Action was aimed at the adults and places posing the risk, not only at the child.",),
        (
            "Consider and record disruption of those posing the risk at every strategy meeting, "
            "and review its effect.",
        ),
    ),
    "cse-4.3": _Bank(
        "the police response",
        (
            "Each missing report from {m1} to {m3} was risk-graded on receipt with a rationale, "
            "safe and well checks were held within 24 hours of return, and the investigation "
            "into {associates} continued although {child} did not make a statement.",
        ),
        (
            "Missing reports were graded promptly, but two in {m2} were graded low risk with no "
            "rationale despite the {risk} exploitation risk; the safe and well check on {d2} was "
            "three days late.",
        ),
        (
            "Four missing reports were graded low risk without rationale; the crime report of "
            "{d2} was filed within a week for 'lack of victim support', and {child} was "
            "arrested on {d3} for an offence linked to the exploitation without this being "
            "considered.",
        ),
        (
            "{child} was treated as a victim throughout and the investigation did not depend on "
            "a statement.",
        ),
        (
            "Grade missing reports against the known exploitation risk and record the "
            "rationale; consider exploitation before treating {child} as a suspect.",
        ),
    ),
    "cse-5.1": _Bank(
        "persistence in building a relationship",
        (
            "{worker} kept contact going with {child} from {m1}: each missed appointment was "
            "followed up the same day and the next one offered at a time {child} chose "
            "({record} {d1}, {d2}).",
        ),
        (
            "Contact was regular until {m2}, when the worker changed twice in two months; missed "
            "visits in {m3} were followed up by letter only.",
        ),
        (
            "{agency} closed its involvement on {d2} because {child} 'did not engage', after two "
            "missed appointments and with no multi-agency discussion of the risk.",
        ),
        (
            "Persistence and flexibility: contact adapted to {child}'s preferences and continued "
            "when visits were missed.",
        ),
        (
            "Do not close on non-engagement without a multi-agency risk discussion; keep the "
            "same worker where possible.",
        ),
    ),
    "cse-5.2": _Bank(
        "the child's own account",
        (
            "{child}'s words are recorded throughout ('{view}'), and the plan reviewed on {d3} "
            "changed the contact arrangements at {child}'s request.",
        ),
        (
            "{child}'s views are recorded at the strategy meeting on {d2} ('{view}'), but are "
            "summarised by adults elsewhere and not linked to the plan.",
        ),
        (
            "The record describes {child} as 'refusing to engage' but holds no account from "
            "{child} in their own words in the look-back.",
        ),
        ("Direct quotes let a reader understand {child}'s daily life, and the plan answers them.",),
        (
            "Record {child}'s views in their own words and show how they shaped decisions, or "
            "why they could not be followed.",
        ),
    ),
    "cse-6.1": _Bank(
        "the effect on the risk of exploitation",
        (
            "There were {missing} in the look-back but only one since {m3}; {child} is back in "
            "full-time education and the risk level was reduced at the review on {d3} with "
            "partners' agreement.",
        ),
        (
            "Missing episodes have reduced since {m3}, but the reasons are not recorded and "
            "{agency} has no outcome measure beyond attendance at appointments.",
        ),
        (
            "Involvement closed on {d3} with the risk unchanged at {risk} and no handover; "
            "{child} was reported missing again two weeks later.",
        ),
        (
            "Outcomes are measured by what changed for {child}, and step-down was agreed only "
            "after the reduction lasted.",
        ),
        (
            "Record outcomes against the risk at the start, and agree any closure with partners "
            "once the reduction has lasted.",
        ),
    ),
    # Domestic abuse.
    "da-1.1": _Bank(
        "recognising each child as a victim",
        (
            "The {record} of {d1} lists {children} by name, age and whereabouts at the time, and "
            "a separate notification was made for each child.",
        ),
        (
            "The children are listed on the referral of {d1}, but the {record} describes them "
            "as 'asleep upstairs' at the incident in {m2} with no thought for what they heard.",
        ),
        (
            "The referral of {d2} is for 'the family': {children} are not named individually "
            "and the {record} holds no child-level alert.",
        ),
        ("Each child named and considered at every incident, including where they were.",),
        (
            "Name each child in every incident record and referral, including an unborn baby, "
            "and consider what each saw or heard.",
        ),
    ),
    "da-1.2": _Bank(
        "history and the pattern of incidents",
        (
            "{incidents} and earlier referrals are set out in the {record2}; the manager's "
            "decision on {d2} refers to the escalating pattern and to the previous relationship of "
            "{pch}.",
        ),
        (
            "A chronology exists but stops in {m1}; the decision on {d2} judged the latest "
            "incident 'low level' without reference to {incidents}.",
        ),
        (
            "Each of {incidents} was closed in isolation; no history checks with other agencies "
            "are recorded and the previous relationship of {pch} was not considered.",
        ),
        ("History checks with partners and a live chronology made the pattern visible.",),
        (
            "Check history with partners at each new incident and record how the pattern "
            "affects the threshold decision.",
        ),
    ),
    "da-2.1": _Bank(
        "the impact on each child",
        (
            "The assessment of {d2} has a separate section for each child: what {child} has "
            "seen and heard, the effect on sleep and behaviour, and what keeps {child} safe.",
        ),
        (
            "The assessment of {d2} describes the adults' relationship in detail, but treats "
            "the children as a group; {child}'s own experience is one sentence.",
        ),
        (
            "No assessment of the impact on the children is recorded; the {record} states "
            "'children not affected as not present' after the incident on {d1}.",
        ),
        ("Child-by-child analysis, using information from health and education.",),
        ("Assess each child separately, using information from those who see the child daily.",),
    ),
    "da-2.2": _Bank(
        "the DASH risk assessment",
        (
            "A DASH checklist was completed on {d1}, giving {dash}, and repeated after the "
            "incident on {d2}; professional judgement and the resulting MARAC referral are "
            "recorded.",
        ),
        (
            "The DASH checklist of {d1}, giving {dash}, was not repeated after the later "
            "incident in {m3}, when the risk plainly rose.",
        ),
        (
            "No DASH checklist is recorded for the incidents in {m1} and {m2}; the {record} "
            "notes that {victim} 'did not want to answer questions' and no further attempt.",
        ),
        ("Checklist completed at the first opportunity and repeated, with judgement recorded.",),
        (
            "Repeat the DASH checklist after each new incident, and use professional judgement "
            "where the score understates the risk.",
        ),
    ),
    "da-2.3": _Bank(
        "the visibility of the person causing harm",
        (
            "The assessment has a section on {pch}: police and probation checks on {d1}, "
            "his contact with the children and his capacity to change; the language is clear "
            "that he is responsible for the abuse.",
        ),
        (
            "The history of {pch} was checked on {d1}, but he was not seen and the "
            "assessment says little about him as a parent; the plan mainly asks {victim} to "
            "keep the children safe.",
        ),
        (
            "{pch} is barely mentioned; the {record} of {d2} says {victim} 'failed to protect' "
            "the children by letting him return.",
        ),
        ("The person causing harm is visible and held responsible; the victim is not blamed.",),
        (
            "Assess the person causing harm as a parent, and avoid language that places "
            "responsibility on {victim}.",
        ),
    ),
    "da-3.1": _Bank(
        "MARAC",
        (
            "The case was referred to MARAC on {d1} after {dash}; {agency} submitted research, "
            "attended on {d2} and completed its actions, including making sure the children's "
            "school or nursery and their health practitioners knew of the risk.",
        ),
        (
            "{agency} attended MARAC on {d2}, but its research did not mention the children and "
            "one action (informing the health visitor) is not recorded as done.",
        ),
        (
            "Despite {dash}, no MARAC referral was made by {agency} and there is no MARAC flag "
            "on its records.",
        ),
        ("Timely MARAC referral, with actions that addressed the children as well as {victim}.",),
        (
            "Make sure MARAC research covers every child in the household, and record completion "
            "of each action.",
        ),
    ),
    "da-3.2": _Bank(
        "actions for the person causing harm",
        (
            "The plan reviewed on {d2} names actions for {pch}: a behaviour change "
            "programme (started in {m2}) and supervised contact only; attendance is confirmed "
            "in the {record}.",
        ),
        (
            "The plan refers {pch} to a behaviour change programme, but there is no "
            "follow-up after he missed the first two sessions in {m3}.",
        ),
        (
            "The plan of {d2} is silent about {pch}; every action falls on {victim}, "
            "including 'not to allow him in the home'.",
        ),
        ("Specific, monitored expectations of the person causing harm.",),
        (
            "Include actions for the person causing harm in every plan and follow up when they "
            "are not met.",
        ),
    ),
    "da-3.3": _Bank(
        "safety planning and housing",
        (
            "A safety plan was agreed with {victim} on {d1}, two days after disclosure, and "
            "reviewed at separation in {m2}; the housing referral led to {housing} within a "
            "week, and the higher risk after separation is recorded.",
        ),
        (
            "Safety planning was done with {victim} on {d1} but not reviewed at separation in "
            "{m2}; the referral for {housing} was made but not chased.",
        ),
        (
            "The {record} notes that {victim} separated from {pch} in {m2} and closes the "
            "risk as 'reduced'; no safety plan or housing referral is recorded.",
        ),
        ("A safety plan agreed quickly and reviewed at separation, with housing options ready.",),
        (
            "Treat separation as a time of higher risk: review the safety plan and chase any "
            "housing referral to an outcome.",
        ),
    ),
    "da-4.1": _Bank(
        "adult-facing services and the children",
        (
            "Routine enquiry was made at the appointment on {d1} with {victim} seen alone; the "
            "{record} lists {children}, and the disclosure was shared with children's social "
            "care the same day.",
        ),
        (
            "Routine enquiry is recorded in {m1}, but the notes do not say whether {victim} was "
            "seen alone and the children are not listed.",
        ),
        (
            "{adult_issue} was treated without reference to the children; no routine enquiry is "
            "recorded and nothing was shared with partners.",
        ),
        ("Safe enquiry with the adult seen alone, and the children in the household recorded.",),
        (
            "Ask about domestic abuse with the adult seen alone, and record the children in the "
            "household at every contact.",
        ),
    ),
    "da-4.2": _Bank(
        "telling the school or early years setting",
        (
            "The setting was told before the next school day after the incidents on {d1} and "
            "{d2} and invited to every core group; its records show a key adult checking in "
            "with {child} the next morning.",
        ),
        (
            "The setting was told about the incident on {d1} the same week, but not about the "
            "one in {m3}, and was not invited to the review on {d3}.",
        ),
        (
            "There is no record that the school or nursery was told about any of {incidents}; "
            "the setting learned of them from {victim} weeks later.",
        ),
        ("Prompt notification meant the setting could support {child} the morning after.",),
        (
            "Tell the school or setting before the next school day after any incident police "
            "attend, and involve them in planning.",
        ),
    ),
    "da-4.3": _Bank(
        "feedback to referrers",
        (
            "The referral of {d1} received an outcome letter within five working days; when "
            "{agency} disagreed with the step-down in {m3} it used the escalation procedure and "
            "the decision was reviewed.",
        ),
        (
            "Feedback came for the first referral but not the second; {agency} chased once, on "
            "{d2}, and did not escalate.",
        ),
        (
            "No feedback is recorded for either referral, and there is no record of {agency} "
            "chasing or challenging the outcome.",
        ),
        ("The referral loop was closed, with professional challenge used when needed.",),
        (
            "Chase feedback within the agreed time, and use the escalation procedure when "
            "worried about an outcome.",
        ),
    ),
    "da-5.1": _Bank(
        "the experience of babies and non-verbal children",
        (
            "The {record} describes {child}'s presentation at each visit: startling at raised "
            "voices, clinging to {victim}, calmer play at nursery; these observations are used "
            "in the assessment of {d2}.",
        ),
        (
            "One observation of {child} is recorded, on {d2}; otherwise the record says {child} "
            "was 'too young to comment'.",
        ),
        (
            "{child} is described only as 'present' or 'asleep'; no observation of {child}'s "
            "experience is recorded in the look-back.",
        ),
        ("Careful observation of a young child's presentation, used in assessment.",),
        (
            "Record observations of young and non-verbal children at every visit, and seek the "
            "views of those who know them well.",
        ),
    ),
    "da-5.2": _Bank(
        "older children seen alone",
        (
            "{child} was seen alone at school on {d1} and {d2}; their worries are recorded in "
            "their own words ('{view}') and the contact arrangements changed as a result.",
        ),
        (
            "{child} was seen alone once, on {d2}; their views are recorded ('{view}') but the "
            "plan does not show how they were used.",
        ),
        ("{child} was only ever seen with {victim} present; no views from {child} are recorded.",),
        ("An older child seen alone in a safe place, whose words changed the plan.",),
        ("See older children alone, record their words and show how they shaped the plan.",),
    ),
    "da-6.1": _Bank(
        "outcomes for the children",
        (
            "There have been no incidents since {m2}; {child}'s sleep and attendance have "
            "improved (setting and health records) and {victim} says she feels safe in the new "
            "home.",
        ),
        (
            "Incidents have reduced since {m2}, but outcomes for the children are not recorded "
            "and the plan has been reviewed without measures.",
        ),
        (
            "Involvement closed on {d3} because {victim} had separated; police records show "
            "{pch} back at the address within a month.",
        ),
        ("Outcomes measured for each child, not only for the adults.",),
        ("Record what has changed for each child before stepping down or closing.",),
    ),
    # Early help and primary school exclusions.
    "ehe-1.1": _Bank(
        "behaviour as possible unmet need",
        (
            "The {record} from {m1} records {behaviour} alongside the triggers and {home}; "
            "{worker} discussed the cause with the family and with early help on {d1}.",
        ),
        (
            "{behaviour} is well recorded from {m1}, but the link to {home} was made only after "
            "the second suspension, in {m2}.",
        ),
        (
            "The {record} lists incidents ({behaviour}) and sanctions only; there is no "
            "exploration of why, although {home} was known from {m1}.",
        ),
        ("Curiosity about what {child}'s behaviour was communicating.",),
        (
            "Ask why the behaviour is happening and record the analysis, drawing on what other "
            "agencies know about home.",
        ),
    ),
    "ehe-1.2": _Bank(
        "special educational needs and disabilities",
        (
            "{worker} raised {need} in {m1}; support was in place by {m2} and reviewed on "
            "{d3}, and a referral for specialist assessment was made before any suspension.",
        ),
        (
            "{need} was noted in {m1}, but the referral for assessment was not made until {m3}, "
            "after the suspensions.",
        ),
        (
            "{need} is mentioned in the {record} on {d1} and {d2}, but no support plan or "
            "referral followed; {child} was suspended before any assessment.",
        ),
        ("SEND considered early, with a graduated response.",),
        ("Refer for assessment when a need is suspected, and before exclusion is considered.",),
    ),
    "ehe-1.3": _Bank(
        "attendance patterns",
        (
            "The {record2} shows {attendance} with analysis by day: absence clusters on Mondays "
            "after contact weekends; time out of class is logged and shared with {lead} at each "
            "review.",
        ),
        (
            "{attendance} is recorded, but time out of class and lateness are not, and the "
            "pattern was not shared with {lead} until {m3}.",
        ),
        (
            "There is no analysis of {attendance}; {child} spent afternoons in the office from "
            "{m2} and this is not recorded as time out of class.",
        ),
        ("Attendance and time out of class analysed together and linked to events at home.",),
        (
            "Record time out of class and partial days, and share attendance patterns with the "
            "lead professional.",
        ),
    ),
    "ehe-2.1": _Bank(
        "the early help assessment and consent",
        (
            "An early help assessment was started on {d1} and completed within four weeks with "
            "the family's recorded consent; it covers {child}, the siblings and both parents, "
            "and records the family's strengths.",
        ),
        (
            "The early help assessment was completed on {d2}, three months after support began; "
            "consent is recorded but the siblings' needs are not assessed.",
        ),
        ("Support was offered from {m1} with no early help assessment; consent is not recorded.",),
        ("A whole-family assessment with informed consent, completed promptly.",),
        ("Complete the assessment before support starts, and cover every child in the household.",),
    ),
    "ehe-2.2": _Bank(
        "threshold and escalation",
        (
            "When {child} made a disclosure at school on {d2}, a threshold discussion with "
            "children's social care was held the same day ({record} {d2}); the decision is "
            "recorded with reasons that match the local threshold document.",
        ),
        (
            "Concerns rose in {m2} ({home}); the case stayed in early help without a recorded "
            "threshold discussion until {m3}.",
        ),
        (
            "A disclosure on {d2} and a police call-out to the home in {m3} were managed within "
            "early help, with no consultation with children's social care and no recorded "
            "consideration of escalation.",
        ),
        ("The threshold applied with recorded reasons, and escalation without delay.",),
        (
            "Record a threshold decision whenever new concerns arise, and consult children's "
            "social care without delay.",
        ),
    ),
    "ehe-2.3": _Bank(
        "the chronology",
        (
            "The {record} holds a multi-agency chronology kept up to date to {m3}; the review on "
            "{d3} uses it to link the suspensions to contact weekends and to {home}.",
        ),
        (
            "A chronology exists but lists contacts without saying why they matter, and has not "
            "been updated since {m2}.",
        ),
        (
            "There is no chronology; the suspensions, {home} and service involvement are "
            "visible only by reading the whole record.",
        ),
        ("A live chronology, used to spot patterns.",),
        ("Keep a chronology of significant events and use it at each review.",),
    ),
    "ehe-3.1": _Bank(
        "a multi-agency view before suspension",
        (
            "{agency} was consulted before the suspension on {d2}; the advice of {worker} to try "
            "{support} first is recorded in the {record} and in the school's decision "
            "record.",
        ),
        (
            "{agency} learned of the suspension on {d2} the day after; {support} had been "
            "discussed, but the professionals involved were not asked beforehand.",
        ),
        (
            "{child} was suspended on {d2} and again in {m3} with no consultation with {lead} or "
            "other professionals, and no record of alternatives.",
        ),
        ("Suspension used as a last resort, after consulting the professionals around {child}.",),
        (
            "Consult the lead professional and any social worker before a suspension, and "
            "record the alternatives tried.",
        ),
    ),
    "ehe-3.2": _Bank(
        "repeat suspensions and informal exclusion",
        (
            "After each of {suspensions} a reintegration meeting was held with the family and "
            "the support plan changed (for example {support}); the register confirms no "
            "reduced timetable and no informal send-home.",
        ),
        (
            "Reintegration meetings were held, but the plan did not change after the second "
            "suspension; a reduced timetable from {m3} has a start date but no review date.",
        ),
        (
            "Besides {suspensions}, the behaviour log records {child} being 'sent home to calm "
            "down' on {d2} and {d3} with no formal process: informal exclusion.",
        ),
        ("Each suspension reviewed and the plan changed; no informal exclusions.",),
        (
            "Review the plan after each suspension; any reduced timetable must be agreed, "
            "time-limited and reviewed.",
        ),
    ),
    "ehe-3.3": _Bank(
        "notifying the local authority and social worker",
        (
            "The local authority was notified on the day of each suspension (notifications "
            "{d1} and {d2}), and {lead} was told by phone the same afternoon.",
        ),
        (
            "The local authority was notified, but {lead} learned of the suspension in {m2} "
            "from the family three days later.",
        ),
        (
            "No notification to the local authority is on file for the suspension of {d2}, and "
            "{lead} was not told.",
        ),
        ("Notifications made the same day and recorded.",),
        (
            "Notify the local authority, and any social worker or the Virtual School, on the day "
            "of the decision.",
        ),
    ),
    "ehe-4.1": _Bank(
        "the lead professional and team around the family",
        (
            "{lead} was agreed as lead professional with the family on {d1}; team around the "
            "family meetings have been held every six weeks, and {agency} attended each one and "
            "completed its actions.",
        ),
        (
            "{lead} is named as lead professional, but meetings lapsed between {m2} and {m3} and "
            "{agency} sent apologies to two of four.",
        ),
        (
            "{agency} was not invited to any team around the family meeting and worked in "
            "isolation; the {record} does not name the lead professional.",
        ),
        ("Regular team around the family meetings with the right agencies present.",),
        (
            "Agree a lead professional with the family, and attend or send information to every "
            "meeting.",
        ),
    ),
    "ehe-4.2": _Bank(
        "a single family plan",
        (
            "One family plan (reviewed {d2}) has outcomes for {child} and each sibling, named "
            "actions with dates, and cross-refers to the school's support plan.",
        ),
        (
            "A family plan exists, but the school support plan runs separately and the siblings "
            "have no outcomes; actions such as 'continue to monitor' have no dates.",
        ),
        (
            "{agency} works to its own plan; there is no shared family plan on file and the "
            "family hold three different plans.",
        ),
        ("A single plan that all agencies and the family hold.",),
        ("Work to one family plan, with specific, dated actions for each child.",),
    ),
    "ehe-5.1": _Bank(
        "the child's views",
        (
            "{worker} used drawings and a scaling exercise with {child} on {d1} and {d2}; "
            "{child} said '{view}', and the plan now includes a quiet space and a trusted adult "
            "at lunchtime.",
        ),
        (
            "{child}'s views were gathered once, on {d1} ('{view}'), but not before or after the "
            "suspensions, and the plan does not refer to them.",
        ),
        ("Only the adults' views are recorded; the {record} holds no direct work with {child}.",),
        ("Age-appropriate direct work, and {child}'s words changed the plan.",),
        ("Seek {child}'s views before and after any suspension; show how they shaped the plan.",),
    ),
    "ehe-6.1": _Bank(
        "drift",
        (
            "The early help manager reviewed progress at each review; at the third, on {d3}, "
            "the plan was changed and a step-up considered, with the rationale recorded.",
        ),
        (
            "The same actions rolled over at three reviews; drift is noted in supervision on "
            "{d3} but no decision followed.",
        ),
        (
            "Early help has been open for over eighteen months with the same actions at every "
            "review, and no management challenge is recorded.",
        ),
        ("Management oversight that spotted drift and changed course.",),
        (
            "Flag cases open over a year or after three reviews, and record a decision to "
            "change the plan, step up or close.",
        ),
    ),
    "ehe-6.2": _Bank(
        "outcomes at closure",
        (
            "Outcomes are recorded against the family plan in the {record}: {attendance} rising "
            "to 95%, no suspensions since {m2}, and the views of {child} and the family on what "
            "helped.",
        ),
        (
            "Progress is described at the last review, but outcomes are not measured against "
            "the plan and there is no record of what happens if needs return.",
        ),
        (
            "{agency} closed on {d3} because the family 'disengaged', with no outcome recorded "
            "and no assessment of the risk to {child}.",
        ),
        ("Outcomes recorded against the plan, with the family's view of what helped.",),
        ("Record outcomes against the plan at closure, and say what happens if needs return.",),
    ),
}

# What still went right where practice requires improvement, by criterion.
_PARTIAL: dict[str, str] = {
    "cse-1.1": "The indicators were written down accurately, so the pattern can be traced.",
    "cse-1.2": "The screening questions were asked at the later attendance.",
    "cse-1.3": "Absence was shared with the social worker.",
    "cse-2.1": "A screening tool was completed and a risk level set.",
    "cse-2.2": "Risk was reviewed after the strategy meeting.",
    "cse-3.1": "Most episodes had an offer, and the interviews held were independent.",
    "cse-3.2": "The findings were discussed at the strategy meeting.",
    "cse-3.3": "A strategy meeting was held and {agency} attended.",
    "cse-4.1": "Information about associates was passed on, if informally.",
    "cse-4.2": "Disruption was on the strategy meeting agenda.",
    "cse-4.3": "Missing reports were graded promptly.",
    "cse-5.1": "Contact was regular in the first half of the look-back.",
    "cse-5.2": "{child}'s words are recorded at the strategy meeting.",
    "cse-6.1": "Missing episodes have reduced.",
    "da-1.1": "The children are listed on the referral.",
    "da-1.2": "A chronology exists.",
    "da-2.1": "The assessment was completed within timescale.",
    "da-2.2": "The DASH checklist was completed at the first incident.",
    "da-2.3": "History checks were made.",
    "da-3.1": "{agency} attended MARAC.",
    "da-3.2": "A referral to a behaviour change programme was made.",
    "da-3.3": "An initial safety plan was agreed with {victim}.",
    "da-4.1": "Routine enquiry was made.",
    "da-4.2": "The setting was told about the first incident.",
    "da-4.3": "The first referral received feedback.",
    "da-5.1": "One clear observation of {child} is recorded.",
    "da-5.2": "{child} was seen alone once.",
    "da-6.1": "Incidents have reduced.",
    "ehe-1.1": "Incidents are recorded in detail.",
    "ehe-1.2": "The possible need was noticed early.",
    "ehe-1.3": "Attendance is recorded accurately.",
    "ehe-2.1": "Consent is recorded.",
    "ehe-2.2": "The concern was escalated in the end.",
    "ehe-2.3": "A chronology exists.",
    "ehe-3.1": "Alternatives to suspension were discussed.",
    "ehe-3.2": "Reintegration meetings were held after each suspension.",
    "ehe-3.3": "The local authority was notified.",
    "ehe-4.1": "A lead professional is named.",
    "ehe-4.2": "A family plan exists.",
    "ehe-5.1": "{child}'s views were gathered once.",
    "ehe-6.1": "Drift was noticed in supervision.",
    "ehe-6.2": "Progress is described at the last review.",
}

# Small recording points an auditor adds even to good practice.
_MINOR_POINTS = (
    "A minor point: the reasoning sits in meeting minutes but not in the {record}; copy it across.",
    "A minor point: two entries in the {record} are undated.",
    "A minor point: the manager's sign-off in the {record} is not dated.",
    "A minor point: the {record} does not say who else was told.",
)

# Why a criterion does not apply: to the whole case, or to one agency's part in it.
_CASE_NOT_APPLICABLE: dict[str, str] = {
    "da-5.1": "there are no babies or non-verbal children in this household.",
    "da-5.2": "no child in this household is old enough to be seen alone.",
}
_AGENCY_NOT_APPLICABLE: dict[str, str] = {
    "cse-4.2": (
        "{agency} has no part in disruption; it shared what it knew through the exploitation "
        "panel (see the answer on intelligence)."
    ),
    "da-4.2": "{agency} had no contact with the children's school or setting in the look-back.",
    "da-5.1": "{agency} works with the adults and did not see the children in the look-back.",
    "da-5.2": "{agency} works with the adults and did not see the children in the look-back.",
    "ehe-2.1": "{agency} does not lead early help assessments and was not asked to contribute.",
    "ehe-6.1": "{agency} had no part in reviewing the early help plan.",
}

_OUTSTANDING_NOTES = (
    "This was done without prompting, and the record shows the difference it made for {child}.",
    "Exemplary recording: a reader new to the case can follow every decision and its reason.",
    "Manager's oversight is recorded at each step, with clear direction and dates.",
)
_INADEQUATE_NOTES = (
    "No management oversight of this is recorded in the look-back.",
    "This left {child} at continuing risk for several weeks.",
    "The gap was not picked up in supervision.",
)


@dataclass(frozen=True)
class _Voice:
    source: VoiceSource
    recorded_by: str  # an agency code, or "" for the audit lead
    text: str


@dataclass(frozen=True)
class _Case:
    profile: CaseProfile
    quality: int  # practice baseline for this child: +1 strong, 0 typical, -1 weak
    facts: Mapping[str, str]
    not_applicable: frozenset[str] = frozenset()
    voices: tuple[_Voice, ...] = ()
    panel_shift: int = 0  # the panel moderated this many grades below the agencies' median
    panel_note: str = ""


@dataclass(frozen=True)
class _AuditSpec:
    tool_id: str
    title: str
    status: AuditStatus
    audit_day: dt.date
    returns_due: dt.date
    chair: str
    scope: str
    agencies: tuple[str, ...]
    cases: tuple[_Case, ...]
    # One letter per case, in cohort order: S submitted, P in progress, N not started.
    stages: Mapping[str, str]
    agency_bias: Mapping[str, int]
    criterion_bias: Mapping[str, int]
    not_applicable: frozenset[tuple[str, str]]
    # Moderated headings per case (by index); missing or empty means not moderated yet.
    moderation: Mapping[int, tuple[ModerationHeading, ...]]


def _crc(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode("utf-8"))


def _pick(options: tuple[str, ...], *key: str) -> str:
    return options[_crc(*key) % len(options)]


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def _months_before(day: dt.date, months: int) -> dt.date:
    start = _month_start(day, months)
    for candidate in (day.day, 30, 29, 28):
        try:
            return start.replace(day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")


def _sentence_case(text: str) -> str:
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _context(
    spec: _AuditSpec, case: _Case, index: int, agency: str, anchor: dt.date
) -> dict[str, str]:
    """Everything a template may name, for one agency's return on one case."""
    role = _role(spec.tool_id, agency)
    ref = case.profile.reference
    shift = _crc(ref, "month") % 2
    context = dict(case.facts)
    context.update(
        child=f"Child {chr(ord('A') + index)}",
        worker=role.worker,
        agency=role.agency,
        record=role.record,
        record2=role.record2,
    )
    for n, back in enumerate((9 + shift, 6 + shift, 3 - shift), start=1):
        month = _month_start(anchor, back)
        # The first date is the agency's own contact; later ones are shared meetings and
        # reviews, so every agency cites the same day for them.
        day = month.replace(day=2 + _crc(ref, agency if n == 1 else "", str(n)) % 26)
        context[f"m{n}"] = f"{month:%B}"
        context[f"d{n}"] = f"{day:%d/%m}"
    return context


def _fill(template: str, context: Mapping[str, str]) -> str:
    return _sentence_case(template.format_map(context))


def _grade(spec: _AuditSpec, case: _Case, agency: str, criterion_id: str) -> str:
    """The case's, agency's and criterion's leanings plus a fixed per-finding wobble."""
    ref = case.profile.reference
    if criterion_id in case.not_applicable or (criterion_id, agency) in spec.not_applicable:
        return NOT_APPLICABLE
    key = _crc(ref, agency, criterion_id)
    jitter = (-2, -1, 0, 0, 0, 0, 1, 1)[key % 8]
    score = (
        case.quality
        + spec.agency_bias.get(agency, 0)
        + spec.criterion_bias.get(criterion_id, 0)
        + jitter
    )
    if score <= 0 and key % 17 == 3:
        return NOT_EVIDENCED
    if score >= 2:
        return OUTSTANDING
    if score >= 0:
        return GOOD
    if score >= -2:
        return REQUIRES_IMPROVEMENT
    return INADEQUATE


def _finding(
    spec: _AuditSpec,
    case: _Case,
    agency: str,
    criterion_id: str,
    definition: ToolDefinition,
    context: Mapping[str, str],
) -> FindingChange:
    """One criterion's answer as an auditor would write it, graded from the demo's tables."""
    bank = _BANKS[criterion_id]
    criterion = definition.tool.criterion(criterion_id)
    grade = _grade(spec, case, agency, criterion_id)
    key = (case.profile.reference, agency, criterion_id)
    strengths = ""
    development = ""
    if grade == NOT_APPLICABLE:
        reason = (
            _CASE_NOT_APPLICABLE[criterion_id]
            if criterion_id in case.not_applicable
            else _AGENCY_NOT_APPLICABLE[criterion_id]
        )
        evidence = f"Not applicable: {reason}"
    elif grade == NOT_EVIDENCED:
        evidence = (
            f"Not evidenced: nothing on {bank.topic} in the {{record}} or the {{record2}} for "
            "the look-back, and the worker could not point to anything elsewhere."
        )
        development = "If this happened, it was not recorded. " + _pick(bank.development, *key)
    elif grade in (OUTSTANDING, GOOD):
        evidence = _pick(bank.good, *key)
        if grade == OUTSTANDING:
            evidence += " " + _pick(_OUTSTANDING_NOTES, *key)
        strengths = _pick(bank.strengths, *key)
        if grade == GOOD and _crc(*key, "minor") % 3 == 0:
            development = _pick(_MINOR_POINTS, *key)
    elif grade == REQUIRES_IMPROVEMENT:
        evidence = _pick(bank.mixed, *key)
        strengths = _PARTIAL[criterion_id]
        development = _pick(bank.development, *key)
    else:
        evidence = _pick(bank.poor, *key) + " " + _pick(_INADEQUATE_NOTES, *key)
        development = _pick(bank.development, *key)
    return FindingChange(
        grade=grade,
        evidence=_fill(evidence, context),
        strengths=_fill(strengths, context) if criterion.asks_strengths else "",
        areas_for_development=(
            _fill(development, context) if criterion.asks_areas_for_development else ""
        ),
    )


def _case(
    reference: str,
    level: LevelOfNeed,
    age: AgeBand,
    gender: Gender,
    ethnicity: str,
    send: Send,
    quality: int,
    facts: Mapping[str, str],
    *,
    not_applicable: frozenset[str] = frozenset(),
    voices: tuple[_Voice, ...] = (),
    panel_shift: int = 0,
    panel_note: str = "",
) -> _Case:
    profile = CaseProfile(
        reference=reference,
        level_of_need=level,
        age_band=age,
        gender=gender,
        ethnicity=ethnicity,
        send=send,
    )
    return _Case(profile, quality, facts, not_applicable, voices, panel_shift, panel_note)


_L = LevelOfNeed
_A = AgeBand
_G = Gender
_S = Send
_CHILD = VoiceSource.CHILD
_FAMILY = VoiceSource.FAMILY
_PRACTITIONER = VoiceSource.PRACTITIONER
_H = ModerationHeading


def _cse_previous(day: dt.date) -> _AuditSpec:
    yy = f"{day:%y}"
    cases = (
        _case(
            f"CSE-{yy}-01",
            _L.CHILD_PROTECTION,
            _A.EARLY_TEEN,
            _G.FEMALE,
            "White British",
            _S.NONE,
            0,
            {
                "missing": "five missing episodes",
                "associates": "older males who collected her in a car",
                "gifts": "a new phone and cash",
                "place": "a flat above a shop near the bus station",
                "health": "a request for emergency contraception",
                "school": "absence on Friday afternoons",
                "view": "they're my mates, they look after me",
                "risk": "high",
            },
            voices=(
                _Voice(
                    _CHILD,
                    "voluntary-sector",
                    "Child A said the project worker was 'the only one who didn't tell me off', "
                    "and did not want a new social worker every few months.",
                ),
            ),
            panel_note="Recognition was prompt, but return home interviews were late.",
        ),
        _case(
            f"CSE-{yy}-02",
            _L.CHILD_IN_NEED,
            _A.OLDER,
            _G.FEMALE,
            "Mixed - White and Black Caribbean",
            _S.SEN_SUPPORT,
            -1,
            {
                "missing": "eight missing episodes",
                "associates": "a group of older young men at the retail park",
                "gifts": "vapes and alcohol",
                "place": "a car park behind the retail park",
                "health": "two emergency department attendances while intoxicated",
                "school": "a part-time timetable and long absences",
                "view": "I can look after myself",
                "risk": "high",
            },
            voices=(
                _Voice(
                    _FAMILY,
                    "",
                    "Mother said she reported Child B missing many times and 'nobody joined the "
                    "dots until it was nearly too late'. She wanted one person to ring.",
                ),
            ),
            panel_shift=1,
            panel_note=(
                "Repeated missing episodes did not lead to a strategy meeting until late, and "
                "the case was closed while the child was still going missing."
            ),
        ),
        _case(
            f"CSE-{yy}-03",
            _L.LOOKED_AFTER,
            _A.EARLY_TEEN,
            _G.FEMALE,
            "White British",
            _S.NONE,
            0,
            {
                "missing": "four missing episodes from the placement",
                "associates": "an adult male she met online",
                "gifts": "clothes and mobile top-ups",
                "place": "a hotel on the ring road",
                "health": "a sexually transmitted infection test",
                "school": "lateness after weekends",
                "view": "he's not like that, he listens to me",
                "risk": "medium",
            },
            panel_note="The placement and the school worked closely; disruption was not tried.",
        ),
        _case(
            f"CSE-{yy}-04",
            _L.CHILD_IN_NEED,
            _A.EARLY_TEEN,
            _G.MALE,
            "Asian or Asian British - Bangladeshi",
            _S.NONE,
            -1,
            {
                "missing": "three missing episodes",
                "associates": "older teenagers linked to drug supply",
                "gifts": "new trainers and cash",
                "place": "a house in a neighbouring town",
                "health": "an injury treated at the minor injuries unit",
                "school": "truanting from afternoon lessons",
                "view": "I just go out with my cousins",
                "risk": "medium",
            },
            panel_note=(
                "Sexual exploitation was not considered for a boy; the response treated it as "
                "criminal behaviour."
            ),
        ),
    )
    agencies = ("childrens-social-care", "police", "school", "gp", "voluntary-sector")
    return _AuditSpec(
        tool_id="cse",
        title=f"Child sexual exploitation multi-agency case audit, {day:%B %Y}",
        status=AuditStatus.CLOSED,
        audit_day=day,
        returns_due=day - dt.timedelta(days=21),
        chair="Designated nurse for safeguarding children (panel chair)",
        scope=(
            "Four children open to services because of exploitation risk, chosen at random from "
            "the exploitation panel list; twelve-month look-back. Tests recognition, return "
            "home interviews and joint working around missing episodes."
        ),
        agencies=agencies,
        cases=cases,
        stages=dict.fromkeys(agencies, "SSSS"),
        agency_bias={"gp": -1, "voluntary-sector": 1},
        criterion_bias={"cse-3.1": -2, "cse-3.2": -1, "cse-4.2": -1, "cse-1.2": -1, "cse-5.2": -1},
        not_applicable=frozenset({("cse-4.2", "gp")}),
        moderation={
            i: (_H.OVERALL, _H.RECOGNITION, _H.JOINT_WORKING, _H.VOICE_OF_THE_CHILD)
            for i in range(len(cases))
        },
    )


def _cse_current(day: dt.date) -> _AuditSpec:
    yy = f"{day:%y}"
    cases = (
        _case(
            f"CSE-{yy}-01",
            _L.CHILD_PROTECTION,
            _A.EARLY_TEEN,
            _G.FEMALE,
            "White British",
            _S.NONE,
            1,
            {
                "missing": "six missing episodes",
                "associates": "an adult male who described himself as her boyfriend",
                "gifts": "a new phone and clothes",
                "place": "a flat above a takeaway in the town centre",
                "health": "a request for emergency contraception",
                "school": "absence on Monday and Friday afternoons",
                "view": "I didn't think it was grooming, I thought he was my boyfriend",
                "risk": "high",
            },
            voices=(
                _Voice(
                    _CHILD,
                    "voluntary-sector",
                    "Child A told the exploitation support worker: 'I didn't think it was "
                    "grooming, I thought he was my boyfriend. When you showed me that film in "
                    "the session I got it.' Wants to keep the same worker after the plan ends.",
                ),
                _Voice(
                    _PRACTITIONER,
                    "school",
                    "The DSL said the Monday morning call with the social worker meant absence "
                    "was followed up the same day: 'we stopped finding out about missing "
                    "episodes a week late'.",
                ),
            ),
            panel_note=(
                "Agencies recognised the risk early, shared what they knew and stayed with the "
                "child; disruption of the adult came late."
            ),
        ),
        _case(
            f"CSE-{yy}-02",
            _L.CHILD_IN_NEED,
            _A.OLDER,
            _G.FEMALE,
            "Black or Black British - African",
            _S.NONE,
            0,
            {
                "missing": "three missing episodes",
                "associates": "older males she met through social media",
                "gifts": "money sent to her bank account",
                "place": "a house used for parties on the edge of the town",
                "health": "repeat sexual health screening",
                "school": "a fall in attendance to under 70%",
                "view": "I know what I'm doing",
                "risk": "medium",
            },
            voices=(
                _Voice(
                    _FAMILY,
                    "",
                    "Mother said the strategy meeting felt like 'a room full of people talking "
                    "about my daughter, not to her'; she valued the officer who rang after "
                    "every return home.",
                ),
            ),
            panel_note=(
                "Sound recognition and sharing; the plan did not reflect the young person's "
                "own view of the risk."
            ),
        ),
        _case(
            f"CSE-{yy}-03",
            _L.LOOKED_AFTER,
            _A.EARLY_TEEN,
            _G.FEMALE,
            "White - any other White background",
            _S.EHCP,
            -1,
            {
                "missing": "eleven missing episodes from two placements",
                "associates": "a group of adults linked to her previous placement area",
                "gifts": "taxi fares paid by others",
                "place": "a park and a nearby flat",
                "health": "an emergency department attendance after an assault",
                "school": "long absences from the specialist school",
                "view": "every time I go missing I get a new person asking the same questions",
                "risk": "high",
            },
            voices=(
                _Voice(
                    _CHILD,
                    "childrens-social-care",
                    "Child C said: 'Every time I go missing I get a new person asking the same "
                    "questions.' The return home interviews were 'fine' but 'nothing changes "
                    "after'.",
                ),
                _Voice(
                    _PRACTITIONER,
                    "childrens-social-care",
                    "The social worker described the placement move as 'the moment we lost "
                    "her': the new placement was out of the area and the handover of the "
                    "exploitation risk took three weeks.",
                ),
            ),
            panel_shift=1,
            panel_note=(
                "Despite good single-agency work in places, the missing episodes continued "
                "across a placement move with no disruption of the adults involved."
            ),
        ),
        _case(
            f"CSE-{yy}-04",
            _L.EARLY_HELP,
            _A.EARLY_TEEN,
            _G.MALE,
            "Asian or Asian British - Pakistani",
            _S.SEN_SUPPORT,
            0,
            {
                "missing": "two missing episodes",
                "associates": "older boys who recruited him to carry parcels",
                "gifts": "new trainers and a phone",
                "place": "a block of flats at the edge of the town",
                "health": "a minor injuries attendance for a cut hand",
                "school": "truanting and two suspensions",
                "view": "I owe them money so I have to",
                "risk": "medium",
            },
            panel_note=(
                "Criminal and sexual exploitation were considered together this time; the "
                "early help threshold was kept too long."
            ),
        ),
        _case(
            f"CSE-{yy}-05",
            _L.CHILD_PROTECTION,
            _A.OLDER,
            _G.MALE,
            "Mixed - White and Black African",
            _S.NOT_KNOWN,
            0,
            {
                "missing": "five missing episodes",
                "associates": "an adult male who gave him lifts and somewhere to stay",
                "gifts": "cigarettes, cannabis and cash",
                "place": "a flat on the ring road",
                "health": "a GP appointment about low mood and poor sleep",
                "school": "a drop to half-time attendance at college",
                "view": "he's the only one who gets me",
                "risk": "high",
            },
            voices=(
                _Voice(
                    _PRACTITIONER,
                    "police",
                    "The missing person coordinator said the exploitation panel now gets the "
                    "return home interview findings within two days, 'the first time we have "
                    "been able to map the flat and who goes there'.",
                ),
            ),
            panel_note="Not yet moderated.",
        ),
    )
    agencies = (
        "childrens-social-care",
        "police",
        "school",
        "gp",
        "sexual-health",
        "voluntary-sector",
    )
    stages = dict.fromkeys(agencies, "SSSSS")
    stages["gp"] = "SSSSP"  # the GP return for the last case was late for the audit day
    return _AuditSpec(
        tool_id="cse",
        title=f"Child sexual exploitation multi-agency case audit, {day:%B %Y}",
        status=AuditStatus.MODERATION,
        audit_day=day,
        returns_due=day - dt.timedelta(days=14),
        chair="Designated nurse for safeguarding children (panel chair)",
        scope=(
            "Five children open to services because of exploitation risk, chosen at random "
            "across levels of need; twelve-month look-back. Re-audit of last year's CSE audit: "
            "were return home interviews timely and shared, and did disruption improve?"
        ),
        agencies=agencies,
        cases=cases,
        stages=stages,
        agency_bias={"voluntary-sector": 1, "school": -1},
        criterion_bias={"cse-4.2": -1, "cse-2.2": -1, "cse-5.1": 1},
        not_applicable=frozenset({("cse-4.2", "gp"), ("cse-4.2", "sexual-health")}),
        moderation={
            0: (_H.OVERALL, _H.RECOGNITION, _H.PLANNING, _H.JOINT_WORKING),
            1: (_H.OVERALL, _H.ASSESSMENT, _H.VOICE_OF_THE_CHILD),
            2: (_H.OVERALL, _H.PLANNING, _H.JOINT_WORKING, _H.IMPACT),
            3: (_H.OVERALL,),
        },
    )


def _domestic_abuse(today: dt.date) -> _AuditSpec:
    day = today + dt.timedelta(days=23)
    yy = f"{today:%y}"  # the year the cohort was chosen
    cases = (
        _case(
            f"DA-{yy}-01",
            _L.CHILD_PROTECTION,
            _A.UNDER_5,
            _G.MALE,
            "White British",
            _S.NONE,
            1,
            {
                "victim": "Mother",
                "pch": "Father",
                "children": "Child A (18 months) and a brother aged three",
                "incidents": "four police call-outs",
                "dash": "a DASH score of 16 (high risk)",
                "housing": "sanctuary measures at the home",
                "adult_issue": "Mother's postnatal depression",
                "view": "",
            },
            not_applicable=frozenset({"da-5.2"}),
            voices=(
                _Voice(
                    _FAMILY,
                    "",
                    "Mother said: 'The health visitor was the first person who asked me when I "
                    "was on my own. I'd been waiting for someone to ask.'",
                ),
            ),
        ),
        _case(
            f"DA-{yy}-02",
            _L.CHILD_IN_NEED,
            _A.PRIMARY,
            _G.FEMALE,
            "Mixed - White and Asian",
            _S.SEN_SUPPORT,
            0,
            {
                "victim": "Mother",
                "pch": "Mother's partner",
                "children": "Child B and a brother aged nine",
                "incidents": "five police call-outs",
                "dash": "a DASH score of 14, raised to high risk on professional judgement",
                "housing": "a move to temporary accommodation",
                "adult_issue": "The alcohol use of Mother's partner",
                "view": "I keep my phone charged in case I need to get help for Mum",
            },
            not_applicable=frozenset({"da-5.1"}),
            voices=(
                _Voice(
                    _CHILD,
                    "school",
                    "Child B told the DSL: 'I keep my phone charged in case I need to get help "
                    "for Mum.' Wants to see Mum's partner 'only at the contact centre'.",
                ),
            ),
        ),
        _case(
            f"DA-{yy}-03",
            _L.CHILD_PROTECTION,
            _A.UNBORN,
            _G.NOT_KNOWN,
            "White British",
            _S.NOT_KNOWN,
            -1,
            {
                "victim": "Mother",
                "pch": "Mother's ex-partner",
                "children": "the unborn baby and a half-sister aged four",
                "incidents": "three reported incidents, one during the pregnancy",
                "dash": "a DASH score of 19 (high risk)",
                "housing": "a refuge place",
                "adult_issue": "Mother's cannabis use",
                "view": "",
            },
            not_applicable=frozenset({"da-5.2"}),
        ),
        _case(
            f"DA-{yy}-04",
            _L.EARLY_HELP,
            _A.EARLY_TEEN,
            _G.MALE,
            "Black or Black British - Caribbean",
            _S.NONE,
            0,
            {
                "victim": "Mother",
                "pch": "Father",
                "children": "Child D and a sister aged thirteen",
                "incidents": "seven incidents over two years, most not reported to police",
                "dash": "a DASH score of 9 (standard risk) despite coercive control",
                "housing": "a homelessness assessment",
                "adult_issue": "Father's untreated depression",
                "view": "I don't want to go to Dad's unless someone else is there",
            },
            not_applicable=frozenset({"da-5.1"}),
            voices=(
                _Voice(
                    _PRACTITIONER,
                    "housing",
                    "The housing officer said the homelessness application stalled for eleven "
                    "days because no agency owned it: 'everyone thought someone else had made "
                    "the call'.",
                ),
            ),
        ),
        _case(
            f"DA-{yy}-05",
            _L.CHILD_IN_NEED,
            _A.PRIMARY,
            _G.FEMALE,
            "White - Gypsy or Irish Traveller",
            _S.NONE,
            0,
            {
                "victim": "Mother",
                "pch": "Mother's partner",
                "children": "Child E and twin brothers aged two",
                "incidents": "two police call-outs and a hospital attendance",
                "dash": "a DASH score of 12 (medium risk)",
                "housing": "a transfer to another council property",
                "adult_issue": "The cocaine use of Mother's partner",
                "view": "it's my job to look after the twins when they shout",
            },
        ),
    )
    agencies = (
        "police",
        "childrens-social-care",
        "community-health",
        "gp",
        "school",
        "housing",
        "substance-misuse",
    )
    return _AuditSpec(
        tool_id="domestic-abuse",
        title=f"Domestic abuse multi-agency case audit, {day:%B %Y}",
        status=AuditStatus.RETURNS,
        audit_day=day,
        returns_due=today + dt.timedelta(days=9),
        chair="Domestic abuse partnership manager (panel chair)",
        scope=(
            "Five households where police attended domestic abuse in the last year, one with "
            "an unborn baby; twelve-month look-back, earlier history where the record shows it. "
            "Is each child seen as a victim, is the person causing harm visible, and did MARAC "
            "actions reach the children?"
        ),
        agencies=agencies,
        cases=cases,
        stages={
            "police": "SSSSP",
            "childrens-social-care": "SPSPN",
            "community-health": "SSPNN",
            "gp": "PNPNN",
            "school": "SPNSN",
            "housing": "SNNPN",
            "substance-misuse": "NNPNN",
        },
        agency_bias={"police": 1, "gp": -1, "substance-misuse": -1},
        criterion_bias={"da-2.3": -2, "da-3.2": -1, "da-4.3": -1, "da-1.1": 1},
        not_applicable=frozenset(
            {("da-4.2", "housing"), ("da-5.1", "substance-misuse"), ("da-5.2", "substance-misuse")}
        ),
        moderation={},
    )


def _early_help_exclusions(today: dt.date) -> _AuditSpec:
    day = today + dt.timedelta(days=44)
    yy = f"{today:%y}"  # the year the cohort was chosen
    cases = (
        _case(
            f"EHE-{yy}-01",
            _L.EARLY_HELP,
            _A.PRIMARY,
            _G.MALE,
            "White British",
            _S.SEN_SUPPORT,
            0,
            {
                "suspensions": "three suspensions totalling five days",
                "behaviour": "throwing equipment and running out of class",
                "need": "a suspected speech and language need",
                "home": "the parents' separation and Mother's low mood",
                "lead": "the early help practitioner",
                "attendance": "attendance of 86%",
                "support": "a nurture group place",
                "view": "the classroom is too loud, the nurture room is where my brain goes quiet",
            },
            voices=(
                _Voice(
                    _CHILD,
                    "school",
                    "Child A drew the classroom as 'too loud' and the nurture room as 'where my "
                    "brain goes quiet'. Said being sent home 'means I don't have to try'.",
                ),
            ),
        ),
        _case(
            f"EHE-{yy}-02",
            _L.EARLY_HELP,
            _A.PRIMARY,
            _G.MALE,
            "Mixed - White and Black Caribbean",
            _S.SEN_SUPPORT,
            1,
            {
                "suspensions": "two suspensions",
                "behaviour": "hitting other children at lunchtime",
                "need": "possible ADHD, awaiting paediatric assessment",
                "home": "Father's return to the family after a long absence",
                "lead": "the school's family support worker",
                "attendance": "attendance of 91%",
                "support": "a lunchtime club and a visual timetable",
                "view": "I'm naughty at dinner time because it's too busy",
            },
            voices=(
                _Voice(
                    _FAMILY,
                    "",
                    "Father said the team around the family meeting was 'the first time school "
                    "and the nurse were in the same room as me', and asked for meetings after "
                    "work.",
                ),
            ),
        ),
        _case(
            f"EHE-{yy}-03",
            _L.CHILD_IN_NEED,
            _A.PRIMARY,
            _G.FEMALE,
            "White British",
            _S.NONE,
            -1,
            {
                "suspensions": "four suspensions, with permanent exclusion being considered",
                "behaviour": "swearing at staff and damaging property",
                "need": "possible attachment difficulties",
                "home": "domestic abuse between Mother and her partner",
                "lead": "the social worker",
                "attendance": "attendance of 78%",
                "support": "a reduced timetable",
                "view": "nobody asks me why",
            },
            voices=(
                _Voice(
                    _PRACTITIONER,
                    "early-help",
                    "The early help practitioner said the plan was reviewed three times with the "
                    "same actions because the wait for a specialist assessment 'held everything "
                    "up'.",
                ),
            ),
        ),
        _case(
            f"EHE-{yy}-04",
            _L.EARLY_HELP,
            _A.UNDER_5,
            _G.MALE,
            "Asian or Asian British - Indian",
            _S.NOT_KNOWN,
            0,
            {
                "suspensions": "one suspension in the Reception year",
                "behaviour": "biting and hiding under tables",
                "need": "delayed speech and toileting",
                "home": "the family's move into temporary accommodation",
                "lead": "the early help practitioner",
                "attendance": "attendance of 88%",
                "support": "a key adult and a sensory box",
                "view": "I like the den",
            },
        ),
        _case(
            f"EHE-{yy}-05",
            _L.CHILD_PROTECTION,
            _A.PRIMARY,
            _G.MALE,
            "Any other ethnic group",
            _S.NONE,
            -1,
            {
                "suspensions": "five suspensions in two terms",
                "behaviour": "climbing out of windows and leaving the school site",
                "need": "sensory processing needs noticed by the school nurse",
                "home": "neglect and parental substance misuse",
                "lead": "the social worker",
                "attendance": "attendance of 74%",
                "support": "one-to-one support in the afternoons",
                "view": "school is better than home because there's lunch",
            },
        ),
    )
    agencies = (
        "school",
        "early-help",
        "childrens-social-care",
        "community-health",
        "camhs",
        "gp",
    )
    return _AuditSpec(
        tool_id="early-help-exclusions",
        title=f"Early help and primary school exclusions case audit, {day:%B %Y}",
        status=AuditStatus.RETURNS,
        audit_day=day,
        returns_due=today + dt.timedelta(days=30),
        chair="Head of early help (panel chair)",
        scope=(
            "Five primary-age children with two or more suspensions this school year, chosen "
            "at random; twelve-month look-back. Was behaviour understood as unmet need, was "
            "early help in place before exclusion, and is there drift?"
        ),
        agencies=agencies,
        cases=cases,
        stages={
            "school": "SSPPN",
            "early-help": "SPPNN",
            "childrens-social-care": "PNSNN",
            "community-health": "SNNPN",
            "camhs": "NPNNN",
            "gp": "NNNNN",
        },
        agency_bias={"early-help": 1, "gp": -1},
        criterion_bias={"ehe-6.1": -1, "ehe-3.1": -1, "ehe-5.1": -1, "ehe-2.1": 1},
        not_applicable=frozenset(
            {("ehe-2.1", "camhs"), ("ehe-6.1", "camhs"), ("ehe-6.1", "gp"), ("ehe-2.1", "gp")}
        ),
        moderation={},
    )


_HEADING_NOTES: dict[ModerationHeading, tuple[str, str]] = {
    _H.RECOGNITION: (
        "indicators were recognised early and acted on by most agencies",
        "indicators sat in records for weeks before anyone acted",
    ),
    _H.ASSESSMENT: (
        "risk was assessed with evidence and reviewed when things changed",
        "assessment was not revisited when circumstances changed",
    ),
    _H.PLANNING: (
        "plans were specific, owned and reviewed",
        "plans were generic and actions drifted between meetings",
    ),
    _H.JOINT_WORKING: (
        "information reached the agencies that needed it, when they needed it",
        "information stayed with single agencies and was not pulled together",
    ),
    _H.VOICE_OF_THE_CHILD: (
        "the child's own words are recorded and shaped the plan",
        "the child's views were summarised by adults or absent",
    ),
    _H.IMPACT: (
        "the record shows what changed for the child",
        "outcomes were not measured against the starting risk",
    ),
    _H.OVERALL: ("", ""),
}

_SECTION_HEADINGS: dict[str, ModerationHeading] = {
    "recognition": _H.RECOGNITION,
    "assessment": _H.ASSESSMENT,
    "missing-and-planning": _H.PLANNING,
    "planning-and-intervention": _H.PLANNING,
    "exclusions": _H.PLANNING,
    "joint-working": _H.JOINT_WORKING,
    "voice-of-the-child": _H.VOICE_OF_THE_CHILD,
    "impact": _H.IMPACT,
}


def _moderated(
    heading: ModerationHeading,
    case: _Case,
    index: int,
    definition: ToolDefinition,
    grades: Mapping[str, list[str]],
) -> tuple[str, str] | None:
    """The panel's grade and reasons for one heading, from the agencies' own grades."""
    if heading is _H.OVERALL:
        answers = [g for values in grades.values() for g in values]
    else:
        answers = [
            g
            for section in definition.tool.sections
            if _SECTION_HEADINGS.get(section.id) is heading
            for c in section.criteria
            for g in grades.get(c.id, [])
        ]
    ranks = [r for g in answers if (r := definition.scale.rank(g)) is not None]
    if not ranks:
        return None
    levels = [level.key for level in definition.scale.levels]
    # The upper median rank: between two middle grades a panel takes the stricter.
    rank = statistics.median_high(ranks)
    capped = False
    if heading is _H.OVERALL:
        rank = min(rank + case.panel_shift, len(levels))
        floor = levels.index(REQUIRES_IMPROVEMENT) + 1
        if INADEQUATE in answers and rank < floor:
            # One agency's inadequate practice keeps the case from being good overall.
            rank, capped = floor, True
    grade = levels[rank - 1]
    label = definition.scale.label(grade)
    good_or_better = sum(1 for r in ranks if r <= 2)
    child = f"Child {chr(ord('A') + index)}"
    counts = (
        f"of the {len(ranks)} grades the agencies gave for {child}, {good_or_better} were good "
        "or better"
    )
    if heading is _H.OVERALL:
        reasons = f"{label}: {counts}. {case.panel_note}"
        if capped:
            reasons += (
                " Some practice was graded inadequate, so the panel would not grade the case "
                "good overall."
            )
        if case.panel_shift:
            reasons += " The panel graded below the agencies' own view for that reason."
    else:
        better, worse = _HEADING_NOTES[heading]
        note = better if rank <= 2 else worse
        reasons = f"{label}: {counts}; the panel agreed that {note}."
    return grade, reasons


def _actors(agencies: tuple[str, ...], tool_id: str) -> dict[str, Actor]:
    actors = {a: Actor(name=_role(tool_id, a).auditor, agency=a) for a in agencies}
    actors[""] = Actor(name="Partnership audit lead")
    return actors


_CHAIR = Actor(name="Audit panel chair")
_FORWARD = (AuditStatus.MODERATION, AuditStatus.REPORTING, AuditStatus.CLOSED)


def _load_audit(
    factory: SessionFactory, registry: ToolRegistry, spec: _AuditSpec, today: dt.date
) -> tuple[AuditDetail, dict[str, int]]:
    actors = _actors(spec.agencies, spec.tool_id)
    lead = actors[""]
    definition = registry.definition(spec.tool_id)
    plan = AuditPlan(
        title=spec.title,
        tool_id=spec.tool_id,
        tool_version=definition.tool.version,
        agencies=spec.agencies,
        cases=tuple(c.profile for c in spec.cases),
        returns_due=spec.returns_due,
        audit_day=spec.audit_day,
        look_back_end=min(spec.audit_day, today),
        chair=spec.chair,
        scope=spec.scope,
    )
    detail = audits.create_audit(factory, lead, registry, plan)
    detail = audits.set_status(factory, lead, detail.id, AuditStatus.RETURNS)
    case_ids = {c.reference: c.id for c in detail.cases}
    anchor = min(spec.audit_day, today)
    grades: dict[str, dict[str, list[str]]] = {}
    for index, case in enumerate(spec.cases):
        ref = case.profile.reference
        grades[ref] = {}
        for agency in spec.agencies:
            stage = spec.stages[agency][index]
            if stage == "N":
                continue
            return_id = returns.find_return(factory, detail.id, ref, agency)
            context = _context(spec, case, index, agency, anchor)
            for criterion_id in _write_return(
                factory, actors[agency], return_id, stage, spec, case, definition, context
            ):
                grade = _grade(spec, case, agency, criterion_id)
                grades[ref].setdefault(criterion_id, []).append(grade)
        for voice in case.voices:
            recorder = actors.get(voice.recorded_by, lead)
            casework.add_voice(factory, recorder, case_ids[ref], voice.source, voice.text)
    if spec.status in _FORWARD:
        audits.set_status(factory, _CHAIR, detail.id, AuditStatus.MODERATION)
        for index, case in enumerate(spec.cases):
            ref = case.profile.reference
            for heading in spec.moderation.get(index, ()):
                moderated = _moderated(heading, case, index, definition, grades[ref])
                if moderated is None:
                    continue
                grade, reasons = moderated
                casework.set_moderated_grade(
                    factory,
                    _CHAIR,
                    case_ids[ref],
                    heading,
                    grade=grade,
                    reasons=reasons,
                    expected_version=None,
                )
    return detail, case_ids


def _write_return(
    factory: SessionFactory,
    actor: Actor,
    return_id: int,
    stage: str,
    spec: _AuditSpec,
    case: _Case,
    definition: ToolDefinition,
    context: Mapping[str, str],
) -> list[str]:
    """Answer one agency's return as far as its stage goes; the criteria graded."""
    agency = actor.agency or ""
    ref = case.profile.reference
    criteria = [c.id for c in definition.tool.criteria_for(agency)]
    answered = criteria
    if stage == "P":
        # Part-answered, as an auditor leaves it mid-way; sometimes with a draft of the
        # next answer typed but not yet graded.
        share = 1 + _crc(ref, agency, "share") % 3
        answered = criteria[: max(1, min(len(criteria) - 1, len(criteria) * share // 4))]
    for criterion_id in answered:
        change = _finding(spec, case, agency, criterion_id, definition, context)
        returns.record_finding(
            factory, actor, return_id, criterion_id, change, expected_version=None
        )
    if stage == "P" and _crc(ref, agency, "draft") % 2 == 0:
        draft_id = criteria[len(answered)]
        draft = _finding(spec, case, agency, draft_id, definition, context)
        returns.record_finding(
            factory,
            actor,
            return_id,
            draft_id,
            FindingChange(evidence=draft.evidence),
            expected_version=None,
        )
    if stage == "S":
        returns.submit_return(factory, actor, return_id)
    return answered


def _finish(factory: SessionFactory, audit_id: int, status: AuditStatus) -> AuditDetail:
    """Walk the audit forward to its demo status, one recorded step at a time."""
    detail = audits.get_audit(factory, audit_id)
    if status in _FORWARD:
        for step in _FORWARD[_FORWARD.index(detail.status) + 1 : _FORWARD.index(status) + 1]:
            detail = audits.set_status(factory, _CHAIR, audit_id, step)
    return detail


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def load_demo(
    factory: SessionFactory, registry: ToolRegistry, *, today: dt.date | None = None
) -> list[AuditDetail]:
    """Load the demo partnership into an empty database and return its four audits.

    Refuses a database that already holds any audit: fictional cases must never sit beside
    a partnership's real ones. The same `today` always gives the same content.
    """
    existing = audits.list_audits(factory)
    if existing:
        raise InvalidRequestError(
            f"the demo loads only into an empty database; this one already holds "
            f"{len(existing)} audit(s)"
        )
    today = today or dt.datetime.now(dt.UTC).date()
    current_day = today - dt.timedelta(days=8)
    specs = (
        _cse_previous(_months_before(current_day, 12)),
        _cse_current(current_day),
        _domestic_abuse(today),
        _early_help_exclusions(today),
    )
    loaded = [_load_audit(factory, registry, spec, today) for spec in specs]
    previous_cases, domestic_cases = loaded[0][1], loaded[2][1]

    # Found on the previous audit day, escalated the same afternoon, closed two days later.
    previous_ref = specs[0].cases[1].profile.reference
    concern = casework.raise_concern(
        factory,
        _CHAIR,
        previous_cases[previous_ref],
        concern=(
            "The panel found Child B still going missing after children's social care closed "
            "the case, with no strategy meeting since the closure and the exploitation risk "
            "last assessed as high."
        ),
        who_told="Head of service, children's social care",
        told_at=_at(specs[0].audit_day, 15, 30),
        agency_code="childrens-social-care",
    )
    casework.close_concern(
        factory,
        _CHAIR,
        concern.id,
        "Strategy meeting held two working days later; the case was re-allocated and an "
        "exploitation plan agreed. Confirmed in writing by the head of service.",
    )
    # Found while the returns are being written: open until the agency lead confirms action.
    domestic_ref = specs[2].cases[2].profile.reference
    casework.raise_concern(
        factory,
        Actor(name=_role("domestic-abuse", "police").auditor, agency="police"),
        domestic_cases[domestic_ref],
        concern=(
            "While auditing, the police auditor found a further incident last week in which "
            "Mother's ex-partner came to the address in breach of bail conditions, with the "
            "four-year-old present; the notification had not reached children's social care, "
            "and no pre-birth assessment has started."
        ),
        who_told="Team manager, children's social care front door",
        told_at=_at(today - dt.timedelta(days=2), 10, 15),
        agency_code="childrens-social-care",
    )
    demo_learning.load_learning(
        factory,
        today,
        previous=loaded[0][0],
        current=loaded[1][0],
        domestic=loaded[2][0],
        cse_definition=registry.definition(specs[0].tool_id),
    )
    return [
        _finish(factory, detail.id, spec.status)
        for (detail, _), spec in zip(loaded, specs, strict=True)
    ]
