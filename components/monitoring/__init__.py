"""The monitoring stack (``golive:monitoring:Monitoring``): rules, routing and dashboards in code, shipped to the cluster."""

from components.monitoring.component import Monitoring, MonitoringArgs

__all__ = ["Monitoring", "MonitoringArgs"]
