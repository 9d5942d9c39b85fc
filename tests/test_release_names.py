"""The names other FHIR releases give the types PainPlan reads are one table (guideline.record.release_names): the
reader reads each, the population export asks an R4 server for none, and the CDS Hooks release table agrees."""

from __future__ import annotations

from cds_hooks.ehr_release import DSTU2, R4, R5, RELEASES, STU3
from guideline.record.build import READABLE_TYPES
from guideline.record.release_names import NOT_R4
from smart_app.population.export import EXPORT_TYPES


def test_each_other_release_name_is_read_and_never_asked_of_an_r4_export_server():
    assert {"MedicationOrder", "DiagnosticOrder", "ProcedureRequest", "ReferralRequest", "MedicationUsage"} == NOT_R4
    assert NOT_R4 <= READABLE_TYPES
    assert NOT_R4.isdisjoint(EXPORT_TYPES.split(","))


def test_the_types_the_release_table_gives_other_releases_and_the_reader_reads_are_in_it():
    """A type (or shape) that shows DSTU2, STU3 or R5 and that R4 does not have is one of the table's names."""
    assert RELEASES[DSTU2].types <= NOT_R4
    assert set(RELEASES[STU3].shapes) - {"MedicationRequest"} <= NOT_R4
    assert (RELEASES[R5].types - RELEASES[R4].types) & READABLE_TYPES <= NOT_R4


def test_the_plan_page_accepts_each_name_in_the_answer_to_a_search_for_the_type_it_is_read_as():
    """Before, DSTU2's DiagnosticOrder, read as ServiceRequests, was named in the ServiceRequest search's answer as a
    type the search did not ask for, and its urine drug screen went uncounted on the page."""
    from guideline.record.release_names import READ_AS
    from smart_app.plan_view import ANSWER_ALSO

    for name, r4_type in READ_AS.items():
        assert name in ANSWER_ALSO[r4_type]
