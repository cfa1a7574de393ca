//! The tables, created exactly as `template.yaml` defines them: the template is the one place
//! their key schema and TTL are written, and local runs and tests read it from there.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use yaml_rust2::{Yaml, YamlLoader};

use twitter_auth_login::config::{Table, Tables};

use crate::admin::{AdminError, describe};

/// The template, as shipped beside the crates.
pub const TEMPLATE: &str = include_str!("../../template.yaml");

/// One `AWS::DynamoDB::Table` of the template, as far as creating it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    /// (name, S | N | B)
    pub attributes: Vec<(String, String)>,
    /// (name, HASH | RANGE)
    pub key_schema: Vec<(String, String)>,
    pub billing_mode: String,
    pub ttl_attribute: Option<String>,
}

/// Every DynamoDB table of a SAM/CloudFormation template.
pub fn table_specs(template: &str) -> Result<Vec<TableSpec>, String> {
    let docs =
        YamlLoader::load_from_str(template).map_err(|e| format!("template is not YAML: {e}"))?;
    let resources = docs
        .first()
        .and_then(|doc| doc["Resources"].as_hash())
        .ok_or("template has no Resources")?;
    let mut specs = Vec::new();
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::DynamoDB::Table") {
            continue;
        }
        let logical_id = id.as_str().ok_or("resource id is not a string")?.to_owned();
        let properties = &resource["Properties"];
        let pairs = |list: &Yaml, a: &str, b: &str| -> Result<Vec<(String, String)>, String> {
            list.as_vec()
                .ok_or(format!("{logical_id}: no list of {a}"))?
                .iter()
                .map(|entry| match (entry[a].as_str(), entry[b].as_str()) {
                    (Some(x), Some(y)) => Ok((x.to_owned(), y.to_owned())),
                    _ => Err(format!("{logical_id}: an entry lacks {a} or {b}")),
                })
                .collect()
        };
        let ttl = &properties["TimeToLiveSpecification"];
        specs.push(TableSpec {
            attributes: pairs(
                &properties["AttributeDefinitions"],
                "AttributeName",
                "AttributeType",
            )?,
            key_schema: pairs(&properties["KeySchema"], "AttributeName", "KeyType")?,
            billing_mode: properties["BillingMode"]
                .as_str()
                .unwrap_or("PROVISIONED")
                .to_owned(),
            ttl_attribute: match ttl["Enabled"].as_bool() {
                Some(true) => ttl["AttributeName"].as_str().map(str::to_owned),
                _ => None,
            },
            logical_id,
        });
    }
    Ok(specs)
}

/// The template's definition of each table that has a name in `names`, paired with that name.
pub fn named_tables(template: &str, names: &Tables) -> Result<Vec<(String, TableSpec)>, String> {
    let specs = table_specs(template)?;
    Table::ALL
        .into_iter()
        .filter_map(|table| names.get(table).map(|name| (table, name)))
        .map(|(table, name)| {
            specs
                .iter()
                .find(|spec| spec.logical_id == table.logical_id())
                .map(|spec| (name.to_owned(), spec.clone()))
                .ok_or(format!("template has no table {}", table.logical_id()))
        })
        .collect()
}

/// Creates one table as the spec says, with its TTL, at `endpoint` (named in messages).
/// On-demand only: the template's tables are.
pub async fn create_table(
    client: &Client,
    name: &str,
    spec: &TableSpec,
    endpoint: &str,
) -> Result<(), AdminError> {
    if spec.billing_mode != "PAY_PER_REQUEST" {
        return Err(AdminError::new(format!(
            "{}: only on-demand tables are supported",
            spec.logical_id
        )));
    }
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| {
        AdminError::new(format!("{}: {e}", spec.logical_id))
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, kind) in &spec.attributes {
        let definition = AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::from(kind.as_str()))
            .build()
            .map_err(invalid)?;
        request = request.attribute_definitions(definition);
    }
    for (attribute, kind) in &spec.key_schema {
        let element = KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(KeyType::from(kind.as_str()))
            .build()
            .map_err(invalid)?;
        request = request.key_schema(element);
    }
    request
        .send()
        .await
        .map_err(|e| describe("creating the table", name, endpoint, e))?;

    if let Some(attribute) = &spec.ttl_attribute {
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(invalid)?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| describe("turning on TTL", name, endpoint, e))?;
    }
    Ok(())
}

/// Creates, from the template, every table that has a name in `names`, at `endpoint` (named
/// in messages).
pub async fn create_tables(
    client: &Client,
    template: &str,
    names: &Tables,
    endpoint: &str,
) -> Result<(), AdminError> {
    for (name, spec) in named_tables(template, names).map_err(AdminError::new)? {
        create_table(client, &name, &spec, endpoint).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(tables: &[(String, TableSpec)], name: &str) -> TableSpec {
        tables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, spec)| spec.clone())
            .unwrap_or_else(|| panic!("{name}"))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn reads_the_shipped_templates_tables() {
        let tables = named_tables(TEMPLATE, &Tables::prefixed("t")).expect("tables");
        assert_eq!(tables.len(), 5);

        let domain = spec(&tables, "t-user-domains");
        assert_eq!(domain.key_schema, pairs(&[("userDomain", "HASH")]));
        assert_eq!(domain.attributes, pairs(&[("userDomain", "S")]));
        assert_eq!(domain.billing_mode, "PAY_PER_REQUEST");
        assert_eq!(domain.ttl_attribute, None);

        let mcc = spec(&tables, "t-mccs");
        assert_eq!(mcc.key_schema, pairs(&[("mcc", "HASH")]));
        assert_eq!(mcc.attributes, pairs(&[("mcc", "N")]));

        let token = spec(&tables, "t-tokens");
        assert_eq!(token.key_schema, pairs(&[("tokenHash", "HASH")]));
        assert_eq!(token.ttl_attribute.as_deref(), Some("expirationTime"));

        let session = spec(&tables, "t-sessions");
        assert_eq!(
            session.key_schema,
            pairs(&[("uid", "HASH"), ("sessionId", "RANGE")])
        );
        assert_eq!(
            session.attributes,
            pairs(&[("uid", "S"), ("sessionId", "S")])
        );
        assert_eq!(session.ttl_attribute.as_deref(), Some("expirationTime"));

        let user = spec(&tables, "t-users");
        assert_eq!(user.key_schema, pairs(&[("uid", "HASH")]));
        assert_eq!(user.ttl_attribute, None);
        assert!(
            tables
                .iter()
                .all(|(_, s)| s.billing_mode == "PAY_PER_REQUEST")
        );
    }

    #[test]
    fn only_named_tables_are_taken() {
        let names = Tables::default().with(Table::Token, "tokens");
        let tables = named_tables(TEMPLATE, &names).expect("tables");
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].0, "tokens");
        assert_eq!(tables[0].1.logical_id, "TokenTable");
    }

    #[test]
    fn a_template_without_the_tables_is_refused() {
        assert!(named_tables("Resources: {}", &Tables::prefixed("t")).is_err());
        assert!(table_specs("not: [valid").is_err());
    }
}
