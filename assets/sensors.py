"""The pipeline's sensors, for the code location to register.

`landing_sensor` (kam_pipeline.assets.landing_sensor) starts kam_nightly when a new
set of extracts has landed; `failure_alert_sensor` (kam_pipeline.assets.alerts)
posts every failed kam_nightly run to a Slack or Teams webhook.
"""

from kam_pipeline.assets.alerts import failure_alert_sensor
from kam_pipeline.assets.landing_sensor import landing_sensor

SENSORS = [landing_sensor, failure_alert_sensor]

__all__ = ["SENSORS", "failure_alert_sensor", "landing_sensor"]
