"""Telemetry kept as declared: log and trace indices deleted no earlier than their minimum, traces sampled per service.

Retention: every index a writer of the stack creates on an OpenSearch domain (Fluent Bit's log
indices, Jaeger's trace indices, each read from the writer's own Helm values) must be covered by
an index lifecycle (ISM) policy that a Job of the stack applies to that domain, and that policy
must delete the index no earlier than the minimum. An uncovered index is kept forever (the domain
fills up) or, worse, deleted by hand.

Sampling: every catalog service sends its spans to a gateway of the stack (its ``otel-exporter``
settings), a tail sampler has a policy for it, and a sampler that runs as several replicas gets
each trace whole (the gateway routes by trace id to it).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

from pulumi_policy import Severity

from . import types as t
from ._base import as_json, get, is_sequence, of_type, refers_to, stack_policy

SERVICE_LABEL = "golive.io/service"
SAMPLE_DAY = ("2026", "01", "31")
_AGE = re.compile(r"(\d+)(nanos|micros|ms|s|m|h|d)")
_AGE_SECONDS = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _chart(release) -> str:
    return str(get(release.props, "chart") or "")


def _values(release) -> Mapping:
    values = as_json(get(release.props, "values"))
    return values if isinstance(values, Mapping) else {}


# --------------------------------------------------------------------------- retention


def _log_indices(release) -> list[str]:
    """The daily indices a Fluent Bit release writes to OpenSearch, as of one sample day."""
    outputs = str(get(_values(release), "config.outputs") or "")
    names = []
    for block in re.split(r"(?m)^\[OUTPUT\]", outputs)[1:]:
        settings = {m.group(1).lower(): m.group(2) for m in re.finditer(r"(?m)^\s*([\w.]+)\s+(.+?)\s*$", block)}
        if settings.get("name", "").lower() not in ("opensearch", "es"):
            continue
        year, month, day = SAMPLE_DAY
        if settings.get("logstash_format", "off").lower() in ("on", "true"):
            names.append(f"{settings.get('logstash_prefix', 'logstash')}-{year}.{month}.{day}")
        else:
            names.append(settings.get("index", "fluent-bit"))
    return names


def _trace_indices(release) -> list[str]:
    """The daily indices Jaeger v2 writes to each OpenSearch backend of its storage extension."""
    backends = get(_values(release), "userconfig.extensions.jaeger_storage.backends") or {}
    names = []
    year, month, day = SAMPLE_DAY
    for key in backends:
        backend = get(backends, f"{key}.opensearch")
        if not isinstance(backend, Mapping):
            continue
        prefix = str(get(backend, "indices.index_prefix") or "")
        joined = prefix if not prefix or prefix.endswith("-") else prefix + "-"
        names += [f"{joined}jaeger-{kind}-{year}-{month}-{day}" for kind in ("span", "service", "dependencies")]
    return names


WRITERS = {"fluent-bit": _log_indices, "jaeger": _trace_indices}


def _age_seconds(value) -> float | None:
    match = _AGE.fullmatch(str(value or ""))
    return int(match.group(1)) * _AGE_SECONDS[match.group(2)] if match else None


def deletion_age_days(policy: Mapping) -> float | None:
    """Days after creation an index under ``policy`` is deleted at the earliest (None: never).

    ISM transitions test the index's age since creation, so along a path of states the deletion
    happens at the largest ``min_index_age`` seen; a transition without conditions is immediate.
    """
    states = {s.get("name"): s for s in policy.get("states") or [] if isinstance(s, Mapping)}
    best: float | None = None
    seen: dict[str, float] = {}
    pending = [(policy.get("default_state"), 0.0)]
    while pending:
        name, age = pending.pop()
        state = states.get(name)
        if state is None or seen.get(name, float("inf")) <= age:
            continue
        seen[name] = age
        if any(isinstance(a, Mapping) and "delete" in a for a in state.get("actions") or []):
            best = age if best is None else min(best, age)
            continue
        for transition in state.get("transitions") or []:
            conditions = transition.get("conditions") or {}
            after = _age_seconds(conditions.get("min_index_age")) if conditions.get("min_index_age") is not None else None
            if conditions and after is None:
                continue  # other conditions (size, doc count) do not bound the age
            pending.append((transition.get("state_name"), max(age, (after or 0.0) / 86400)))
    return best


def _applied_policies(args, domain) -> dict[str, Mapping]:
    """ISM policies (id -> policy) in the settings of the Jobs that apply them to ``domain``."""
    config_maps = {(get(cm.props, "metadata.namespace"), get(cm.props, "metadata.name")): cm for cm in of_type(args, t.K8S_CONFIG_MAP)}
    found: dict[str, Mapping] = {}
    for job in of_type(args, t.K8S_JOB):
        if not refers_to(job, "spec", domain):
            continue
        namespace = get(job.props, "metadata.namespace")
        for volume in get(job.props, "spec.template.spec.volumes") or []:
            config_map = config_maps.get((namespace, get(volume, "configMap.name")))
            if config_map is None:
                continue
            for _, text in sorted((get(config_map.props, "data") or {}).items()):
                document = as_json(text)
                policies = document.get("ismPolicies") if isinstance(document, Mapping) else None
                if isinstance(policies, Mapping):
                    found.update({pid: get(doc, "policy") or {} for pid, doc in policies.items()})
    return found


def _covering(policies: Mapping[str, Mapping], index: str) -> tuple[str, Mapping] | None:
    """The policy ISM attaches to a new ``index``: the matching ``ism_template`` of highest priority."""
    matches = []
    for pid, policy in policies.items():
        for template in policy.get("ism_template") or []:
            patterns = template.get("index_patterns") or []
            if any(fnmatch.fnmatchcase(index, p) for p in (patterns if is_sequence(patterns) else [patterns])):
                matches.append((template.get("priority") or 0, pid, policy))
    if not matches:
        return None
    _, pid, policy = max(matches, key=lambda m: (m[0], m[1]))
    return pid, policy


def _check_retention(args, cfg, chart: str, what: str):
    domains = of_type(args, t.OPENSEARCH_DOMAIN)
    for release in of_type(args, t.HELM_RELEASE):
        if _chart(release) != chart:
            continue
        for domain in domains:
            if not refers_to(release, "values", domain):
                continue
            policies = _applied_policies(args, domain)
            uncovered, ages = [], {}
            for index in WRITERS[chart](release):
                covered = _covering(policies, index)
                if covered is None:
                    uncovered.append(index)
                else:
                    ages.setdefault(covered[0], (index, deletion_age_days(covered[1])))
            if uncovered:
                yield (f"{release.name} writes {what} indices ({', '.join(uncovered)}, …) to {domain.name}, and no index lifecycle "
                       "policy that a Job of the stack applies to the domain covers them: they are kept until the domain is full. "
                       f"Declare their retention (at least {cfg['minRetentionDays']} days)."), release.urn
            for pid, (index, days) in sorted(ages.items()):
                if days is None:
                    yield (f"{release.name}: ISM policy {pid} covers {index} but never deletes it; give it a delete state "
                           f"after at least {cfg['minRetentionDays']} days."), release.urn
                elif days < cfg["minRetentionDays"]:
                    yield (f"{release.name}: ISM policy {pid} deletes {what} indices such as {index} after {days:g} days; "
                           f"keep them at least {cfg['minRetentionDays']} days."), release.urn


log_retention_declared = stack_policy(
    name="monitoring-log-retention-declared",
    description="Every log index Fluent Bit writes to OpenSearch has a declared lifecycle policy deleting it no earlier than 90 days.",
    check=lambda args, cfg: _check_retention(args, cfg, "fluent-bit", "log"),
    types=(t.HELM_RELEASE, t.OPENSEARCH_DOMAIN, t.K8S_JOB, t.K8S_CONFIG_MAP),
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation="Keep components/opensearch_setup.py (golive:monitoring.logs.indexRetentionDays) wired to the logs domain.",
    controls=("well-architected:SEC04-BP01",),
    defaults={"minRetentionDays": 90},
)

trace_retention_declared = stack_policy(
    name="monitoring-trace-retention-declared",
    description="Every trace index Jaeger writes to OpenSearch has a declared lifecycle policy deleting it no earlier than 7 days.",
    check=lambda args, cfg: _check_retention(args, cfg, "jaeger", "trace"),
    types=(t.HELM_RELEASE, t.OPENSEARCH_DOMAIN, t.K8S_JOB, t.K8S_CONFIG_MAP),
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Keep components/opensearch_setup.py (golive:monitoring.tracing.retentionDays) wired to the logs domain.",
    controls=("well-architected:OPS08-BP01",),
    defaults={"minRetentionDays": 7},
)


# --------------------------------------------------------------------------- sampling


def _collector_config(release) -> Mapping:
    values = _values(release)
    config = get(values, "alternateConfig") or get(values, "config") or {}
    return config if isinstance(config, Mapping) else {}


def _service_host(release) -> str:
    """``<Service>.<namespace>``: how pods reach the release's collector Service (the chart's fullname)."""
    name = str(get(_values(release), "fullnameOverride") or "")
    if not name:
        release_name = str(get(release.props, "name") or "")
        name = release_name if "opentelemetry-collector" in release_name else f"{release_name}-opentelemetry-collector"
    return f"{name}.{get(release.props, 'namespace') or 'default'}"


def _tail_policies(release) -> list[Mapping]:
    processors = get(_collector_config(release), "processors") or {}
    return [p for key in processors if str(key).split("/")[0] == "tail_sampling" for p in get(processors, f"{key}.policies") or []]


def _names_service(policy: Mapping, service: str) -> bool:
    """The policy (or one of its ``and`` sub-policies) selects spans of ``service`` by ``service.name``."""
    if policy.get("type") == "string_attribute":
        attribute = policy.get("string_attribute") or {}
        return attribute.get("key") == "service.name" and service in list(attribute.get("values") or [])
    if policy.get("type") == "and":
        return any(_names_service(p, service) for p in get(policy, "and.and_sub_policy") or [])
    return False


def _routes_by_trace(gateway, sampler) -> bool:
    """The gateway's loadbalancing exporter sends each trace id to one pod of the sampler's Service."""
    exporters = get(_collector_config(gateway), "exporters") or {}
    for key in exporters:
        if str(key).split("/")[0] != "loadbalancing":
            continue
        exporter = get(exporters, key) or {}
        host = str(get(exporter, "resolver.dns.hostname") or get(exporter, "resolver.k8s.service") or "")
        if (get(exporter, "routing_key") or "traceID") == "traceID" and host.startswith(_service_host(sampler)):
            return True
    return False


def _check_sampling(args, cfg):
    collectors = [r for r in of_type(args, t.HELM_RELEASE) if _chart(r) == "opentelemetry-collector"]
    samplers = [r for r in collectors if _tail_policies(r)]
    gateways = {_service_host(r): r for r in collectors if r not in samplers}  # a sampler reached directly sees fragments
    exporters = {}
    for config_map in of_type(args, t.K8S_CONFIG_MAP):
        endpoint = get(config_map.props, "data.OTEL_EXPORTER_OTLP_ENDPOINT")
        if endpoint:
            exporters.setdefault(get(config_map.props, "metadata.namespace"), []).append(str(endpoint))
    for namespace in of_type(args, t.K8S_NAMESPACE):
        service = (get(namespace.props, "metadata.labels") or {}).get(SERVICE_LABEL)
        if not service:
            continue
        ns_name = get(namespace.props, "metadata.name") or service
        hosts = [re.sub(r"^\w+://", "", e).split(":")[0] for e in exporters.get(ns_name, [])]
        if not any(h.startswith(gateway + ".") or h == gateway for h in hosts for gateway in gateways):
            yield (f"service {service}: no ConfigMap in namespace {ns_name} sets OTEL_EXPORTER_OTLP_ENDPOINT to a trace gateway of "
                   "the stack; its spans go nowhere."), namespace.urn
        if not any(_names_service(p, service) for s in samplers for p in _tail_policies(s)):
            yield (f"service {service}: no tail-sampling policy names it (service.name); every trace of it is dropped. Set "
                   "golive:services[].tracing."), namespace.urn
    for sampler in samplers:
        replicas = get(_values(sampler), "replicaCount") or 1
        if replicas > 1 and not any(_routes_by_trace(g, sampler) for g in collectors if g is not sampler):
            yield (f"{sampler.name} samples at the tail with {replicas} replicas, but no gateway routes each trace by its id to "
                   "it (loadbalancing exporter, routing_key traceID): spans of one trace land on different samplers and the "
                   "decisions are made on fragments."), sampler.urn


trace_sampling_per_service = stack_policy(
    name="monitoring-trace-sampling-per-service",
    description="Every catalog service sends spans to the trace gateway and has a tail-sampling policy; samplers get whole traces.",
    check=_check_sampling,
    types=(t.HELM_RELEASE, t.K8S_CONFIG_MAP, t.K8S_NAMESPACE),
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Declare tracing through components/tracing.py: it renders golive:services[].tracing into the samplers' "
                "policies and each service's otel-exporter ConfigMap.",
    controls=("well-architected:OPS04-BP02",),
)

POLICIES = [log_retention_declared, trace_retention_declared, trace_sampling_per_service]
