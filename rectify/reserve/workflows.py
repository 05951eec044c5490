"""The project's stage (项目阶段): 储备 → 前期 → 在建 → 完工 → 运营/管护, moved by the office, one step at
a time; a step back (储备 from 前期, 前期 from 在建) when a project was moved too early."""

from __future__ import annotations

from rectify.core.workflow import Transition, Workflow
from rectify.reserve import scope
from rectify.reserve.models import Stage

S = Stage

STAGE_FLOW = Workflow(
    "project_stage",
    label="储备项目",
    states=S.choices,
    state_attr="stage",
    roles={"office": scope.moves_stage},
    transitions=[
        Transition(S.RESERVE, "prepare", S.PREPARATION, "office", "转入前期", "project_prepared"),
        Transition(S.PREPARATION, "build", S.CONSTRUCTION, "office", "开工建设", "project_started"),
        Transition(S.CONSTRUCTION, "complete", S.COMPLETED, "office", "完工", "project_completed"),
        Transition(S.COMPLETED, "operate", S.OPERATION, "office", "转入运营/管护", "project_operating"),
        Transition(S.PREPARATION, "back_to_reserve", S.RESERVE, "office", "退回储备", "project_stage_back"),
        Transition(S.CONSTRUCTION, "back_to_preparation", S.PREPARATION, "office", "退回前期", "project_stage_back"),
    ],
)
