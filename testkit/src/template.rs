//! Reading settings of `template.yaml` that tests hold the code to.

use std::time::Duration;

use yaml_rust2::{Yaml, YamlLoader};

/// The template, as shipped beside the crates.
pub const TEMPLATE: &str = include_str!("../../template.yaml");

fn globals(template: &str) -> Result<Yaml, String> {
    let docs = YamlLoader::load_from_str(template).map_err(|e| format!("template: {e}"))?;
    let doc = docs.into_iter().next().ok_or("template is empty")?;
    Ok(doc["Globals"]["Function"].clone())
}

/// Every function's `Timeout`, from `Globals`.
pub fn function_timeout(template: &str) -> Result<Duration, String> {
    let seconds = globals(template)?["Timeout"]
        .as_i64()
        .ok_or("Globals.Function.Timeout is not a number")?;
    Ok(Duration::from_secs(
        seconds.try_into().map_err(|_| "negative Timeout")?,
    ))
}

/// An environment variable every function gets, from `Globals`, when it is a literal.
pub fn global_variable(template: &str, name: &str) -> Result<String, String> {
    match &globals(template)?["Environment"]["Variables"][name] {
        Yaml::String(value) => Ok(value.clone()),
        Yaml::Integer(value) => Ok(value.to_string()),
        _ => Err(format!("{name} is not a literal in Globals")),
    }
}
