from cadency.sequences.models.absence import Absence, AbsencePause, AbsenceTask, PauseOutcome
from cadency.sequences.models.enrollment import Enrollment, EnrollmentStatus, UnenrollReason
from cadency.sequences.models.sequence import DelayUnit, Sequence, Step, StepKind
from cadency.sequences.models.step_run import StepRun, StepRunState
from cadency.sequences.models.task import Task, TaskStatus

__all__ = [
    "Absence",
    "AbsencePause",
    "AbsenceTask",
    "DelayUnit",
    "Enrollment",
    "EnrollmentStatus",
    "PauseOutcome",
    "Sequence",
    "Step",
    "StepKind",
    "StepRun",
    "StepRunState",
    "Task",
    "TaskStatus",
    "UnenrollReason",
]
