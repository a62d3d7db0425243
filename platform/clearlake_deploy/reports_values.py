"""The ``reports:`` values: the shared volume holding report notebooks and the gallery.

``Settings.reports_root`` is ``CLEARLAKE_HOME/reports``. On the cluster CLEARLAKE_HOME sits
on each pod's /tmp emptyDir, so without this volume a report written by a run or step pod
would vanish with the pod, and the Data API (which serves ``/reports``) would never see it.
The chart mounts one PersistentVolumeClaim there in the code-location server, the Data API
(read-only) and, through the ``dagster:`` run launcher values, every run and step pod.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from clearlake_deploy.kube_types import DnsSubdomain, Quantity, StrictModel, quantity_value

EFS_PROVISIONER = "efs.csi.aws.com"
"""The Amazon EFS CSI driver: its access points enforce a POSIX identity on every file."""

EFS_IDENTITY_PARAMETERS = ("uid", "gid")
"""Parameters of an EFS class the chart sets from ``podSecurity`` (the pods' user and group)."""

AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]


def _shared_by_every_node() -> list[AccessMode]:
    return ["ReadWriteMany"]


Provisioner = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)?$",
        max_length=253,
    ),
]
ParameterName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_./]*$")]
FILE_SYSTEM_ID = re.compile(r"fs-[0-9a-f]{8,40}")


class ReportsStorageClassValues(StrictModel):
    create: bool = Field(
        False,
        description=(
            "Create the StorageClass <namespace>-<fullname>-reports for the claim "
            "(values-aws.yaml: EFS access points)."
        ),
    )
    provisioner: Literal[""] | Provisioner = Field(
        "", description="Provisioner of the created class, e.g. efs.csi.aws.com."
    )
    parameters: dict[ParameterName, str] = Field(
        default_factory=dict,
        description=(
            "Provisioner parameters, all strings. EFS: provisioningMode, fileSystemId "
            "(terraform helm_values), directoryPerms, basePath; the chart sets uid and gid "
            "from podSecurity."
        ),
    )
    reclaim_policy: Literal["Retain", "Delete"] = Field(
        "Retain", description="Retain keeps the reports when the claim is deleted."
    )
    mount_options: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        default_factory=list, description="Mount options of the class's volumes."
    )

    @model_validator(mode="after")
    def provisioner_can_provision(self) -> ReportsStorageClassValues:
        if not self.create:
            return self
        if not self.provisioner:
            raise ValueError(
                "reports.storageClass.create is true but reports.storageClass.provisioner is "
                "empty: name the CSI driver, e.g. efs.csi.aws.com"
            )
        if self.provisioner != EFS_PROVISIONER:
            return self
        set_by_chart = [name for name in EFS_IDENTITY_PARAMETERS if name in self.parameters]
        if set_by_chart:
            raise ValueError(
                f"reports.storageClass.parameters.{set_by_chart[0]}: remove it, the chart sets "
                "uid and gid of an EFS class from podSecurity.runAsUser/runAsGroup (the user "
                "every Clearlake pod runs as)"
            )
        file_system = self.parameters.get("fileSystemId", "")
        if not FILE_SYSTEM_ID.fullmatch(file_system):
            raise ValueError(
                f"reports.storageClass.parameters.fileSystemId ({file_system!r}) must be an EFS "
                "file system id (fs-...) for efs.csi.aws.com: set it to the terraform output "
                "reports_file_system_id (part of helm_values)"
            )
        return self


class ReportsValues(StrictModel):
    """Where reports live on the cluster (``Settings.reports_root``)."""

    enabled: bool = Field(
        True,
        description=(
            "Keep reports on a PersistentVolumeClaim shared by every Clearlake pod; false = "
            "per-pod scratch space, reports vanish with the pod."
        ),
    )
    existing_claim: Literal[""] | DnsSubdomain = Field(
        "",
        description=(
            "Mount this existing claim instead of creating <fullname>-reports; the run "
            "launcher's reports volume (dagster subtree) must name it too."
        ),
    )
    storage_class_name: Literal[""] | DnsSubdomain | None = Field(
        None,
        description=(
            'StorageClass of the created claim: null = the cluster default, "" = none '
            "(bind a pre-created PersistentVolume)."
        ),
    )
    size: Quantity = Field("20Gi", description="Storage requested by the created claim.")
    access_modes: list[AccessMode] = Field(
        default_factory=_shared_by_every_node,
        min_length=1,
        description="ReadWriteMany: pods on different nodes share the claim.",
    )
    storage_class: ReportsStorageClassValues = Field(
        default_factory=lambda: ReportsStorageClassValues.model_validate({}),
        description="A StorageClass created by the chart for the claim.",
    )

    @model_validator(mode="after")
    def claim_can_be_shared(self) -> ReportsValues:
        if quantity_value(self.size) <= 0:
            raise ValueError(f"reports.size ({self.size}) must be above zero, e.g. 20Gi")
        if "ReadWriteOncePod" in self.access_modes:
            raise ValueError(
                "reports.accessModes: ReadWriteOncePod lets a single pod use the claim, but the "
                "code-location server, the Data API and every run and step pod share it: use "
                "ReadWriteMany (ReadWriteOnce on a single-node cluster)"
            )
        if not {"ReadWriteMany", "ReadWriteOnce"} & set(self.access_modes):
            raise ValueError(
                "reports.accessModes must include ReadWriteMany (or ReadWriteOnce on a "
                "single-node cluster): run and step pods write reports to the claim"
            )
        if self.storage_class.create and self.storage_class_name is not None:
            raise ValueError(
                "reports.storageClassName and reports.storageClass.create are exclusive: the "
                "claim uses the class the chart creates; unset one of them"
            )
        return self
