//! The rules of the CloudWatch Embedded Metric Format specification
//! (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
//! CloudWatch_Embedded_Metric_Format_Specification.html), checked on a
//! document: what CloudWatch Logs would refuse to turn into metrics.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// The units a MetricDefinition may name (CloudWatch `StandardUnit`).
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
const MAX_METRICS_PER_DIRECTIVE: usize = 100;
const MAX_DIMENSIONS_PER_SET: usize = 30;
const MAX_VALUES_PER_METRIC: usize = 100;
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

pub fn validate(document: &Value) -> Result<(), String> {
    if document.to_string().len() > MAX_DOCUMENT_BYTES {
        return Err("larger than a log event may be".into());
    }
    let root = document.as_object().ok_or("the root is not an object")?;
    let metadata = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("`_aws` is not an object")?;
    if !metadata.get("Timestamp").is_some_and(Value::is_u64) {
        return Err("`_aws.Timestamp` is not epoch milliseconds".into());
    }
    let directives = metadata
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("`_aws.CloudWatchMetrics` is not an array")?;
    for directive in directives {
        let directive = object(directive, "a MetricDirective")?;
        let namespace = string(directive, "Namespace", "a MetricDirective")?;
        if namespace.is_empty() || namespace.len() > 255 {
            return Err(format!("Namespace {namespace:?} is not 1-255 characters"));
        }
        let dimension_sets = array(directive, "Dimensions", "a MetricDirective")?;
        for set in dimension_sets {
            let set = set.as_array().ok_or("a DimensionSet is not an array")?;
            if set.len() > MAX_DIMENSIONS_PER_SET {
                return Err(format!("a DimensionSet has {} keys", set.len()));
            }
            for key in set {
                let key = key.as_str().ok_or("a dimension key is not a string")?;
                let value = root.get(key).and_then(Value::as_str).ok_or(format!(
                    "dimension `{key}` has no string member in the root"
                ))?;
                if value.is_empty() || value.len() > 1024 {
                    return Err(format!("dimension `{key}` is not 1-1024 characters"));
                }
            }
        }
        let metrics = array(directive, "Metrics", "a MetricDirective")?;
        if metrics.len() > MAX_METRICS_PER_DIRECTIVE {
            return Err(format!("a MetricDirective has {} metrics", metrics.len()));
        }
        let mut names = HashSet::new();
        for metric in metrics {
            let metric = object(metric, "a MetricDefinition")?;
            let name = string(metric, "Name", "a MetricDefinition")?;
            if name.is_empty() || name.len() > 1024 || !names.insert(name) {
                return Err(format!(
                    "metric name {name:?} is empty, too long or repeated"
                ));
            }
            if let Some(unit) = metric.get("Unit")
                && !unit.as_str().is_some_and(|unit| UNITS.contains(&unit))
            {
                return Err(format!("metric `{name}` has unit {unit}"));
            }
            if let Some(resolution) = metric.get("StorageResolution")
                && resolution != 1
                && resolution != 60
            {
                return Err(format!(
                    "metric `{name}` has StorageResolution {resolution}"
                ));
            }
            match root.get(name) {
                Some(Value::Number(_)) => {}
                Some(Value::Array(values))
                    if !values.is_empty()
                        && values.len() <= MAX_VALUES_PER_METRIC
                        && values.iter().all(Value::is_number) => {}
                other => {
                    return Err(format!("metric `{name}` has the value {other:?}"));
                }
            }
        }
    }
    Ok(())
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} is not an object"))
}

fn string<'a>(object: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a str, String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what} has no `{key}` string"))
}

fn array<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a Vec<Value>, String> {
    object
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{what} has no `{key}` array"))
}
