"""A pipeline task's transform stage outputs, one asset per stage, partitioned by candidate.

``evaluation/<task>/stage_<repo>`` for each transform stage, upstream of the next stage and
of the task's predictions. The output itself lives content-addressed in the lake
(:mod:`clearlake.evaluation.stage_outputs`): a combination sharing the chain up to this
stage records a materialisation with the same data version (the address) and metadata
``reused: true``, ``computed_by: <first candidate>``, ``transform_runs: 0``. Metadata
``transform_runs`` counts the transform processes each materialisation started.
"""

import dagster as dg

from assets.evaluation.runs import candidate_run_of, common
from assets.evaluation.suites import suite_dep
from clearlake.evaluation import candidate_run, code_versions
from clearlake.names import stage_output_key
from clearlake.orchestration.resources import LakeResource, SettingsResource
from clearlake.project.load import Project
from clearlake.provenance import provenance_metadata


def stage_asset(project: Project, task_name: str, index: int) -> dg.AssetsDefinition:
    task = project.task(task_name)
    assert task.pipeline is not None
    stage = task.pipeline[index]
    assert stage.output is not None
    code_version = code_versions.stage_code_version(project, task_name, index)
    upstream = [
        stage_output_key(task_name, task.pipeline[index - 1].repository)
        if index
        else suite_dep(project, task_name, task.train_suite),
        *([] if index else [suite_dep(project, task_name, task.test_suite)]),
    ]

    @dg.asset(
        key=stage_output_key(task_name, stage.repository),
        description=(
            f"Task {task_name}, pipeline stage {index + 1} of {len(task.pipeline)}: repository "
            f"{stage.repository}'s transform of "
            + (
                "the task's suites"
                if index == 0
                else f"stage {task.pipeline[index - 1].repository}"
            )
            + f" at the candidate's commit, checked against its declared columns "
            f"({', '.join(stage.output.columns)}); computed once per chain, commit and "
            "input, reused by every combination that shares them."
        ),
        deps=upstream,
        code_version=code_version,
        kinds={"python", "pandas"},
        **common(task_name),
    )
    def _stage(
        context: dg.AssetExecutionContext, lake: LakeResource, settings: SettingsResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        store = lake.store()
        run = candidate_run_of(context, project, settings.settings(), store)
        frames = candidate_run.suite_frames(run, store)
        result = candidate_run.stage_output(context, run, index, store=store, frames=frames)
        output, at = result.output, run.stages[index]
        if result.reused:
            context.log.info(
                f"stage {at.label}: reused the output {output.record['computed_by']} computed"
            )
        return dg.MaterializeResult(
            data_version=dg.DataVersion(output.address),
            metadata={
                "candidate": str(run.key),
                "task": task_name,
                "stage": at.name,
                "commit": at.sha,
                "stages": dg.MetadataValue.json({s.name: s.sha for s in run.stages[: index + 1]}),
                "address": output.address,
                "reused": result.reused,
                "computed_by": str(output.record["computed_by"]),
                "transform_runs": result.transform_runs,
                "rows_train": output.train.num_rows,
                "rows_test": output.test.num_rows,
                "transform_seconds": float(output.record.get("transform_seconds", 0.0)),
                **provenance_metadata(
                    run_id=context.run_id, code_version=code_version, candidate_commit=at.sha
                ),
            },
        )

    return _stage


def stage_assets(project: Project, task_name: str) -> list[dg.AssetsDefinition]:
    """One asset per transform stage of the task's pipeline (none without a pipeline)."""
    task = project.task(task_name)
    return [stage_asset(project, task_name, i) for i in range(len(task.transform_stages))]
