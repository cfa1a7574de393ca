//! The three tables, created exactly as `template.yaml` defines them: the template is the one
//! place their key schema and TTL are written, and local runs and tests read it from there.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use yaml_rust2::{Yaml, YamlLoader};

use crate::config::TableNames;

pub const USER_DOMAIN_TABLE_ID: &str = "UserDomainTable";
pub const MCC_TABLE_ID: &str = "MccTable";
pub const TOKEN_TABLE_ID: &str = "TokenTable";

/// The template, as shipped beside the crate.
pub const TEMPLATE: &str = include_str!("../template.yaml");

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

/// The template's three tables, each paired with the name it gets here.
pub fn login_tables(
    template: &str,
    names: &TableNames,
) -> Result<Vec<(String, TableSpec)>, String> {
    let specs = table_specs(template)?;
    [
        (USER_DOMAIN_TABLE_ID, &names.user_domain),
        (MCC_TABLE_ID, &names.mcc),
        (TOKEN_TABLE_ID, &names.token),
    ]
    .into_iter()
    .map(|(id, name)| {
        specs
            .iter()
            .find(|spec| spec.logical_id == id)
            .map(|spec| (name.clone(), spec.clone()))
            .ok_or(format!("template has no table {id}"))
    })
    .collect()
}

/// Creates one table as the spec says, with its TTL. On-demand only: the template's tables are.
pub async fn create_table(client: &Client, name: &str, spec: &TableSpec) -> Result<(), String> {
    if spec.billing_mode != "PAY_PER_REQUEST" {
        return Err(format!(
            "{}: only on-demand tables are supported",
            spec.logical_id
        ));
    }
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, kind) in &spec.attributes {
        let definition = AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::from(kind.as_str()))
            .build()
            .map_err(|e| e.to_string())?;
        request = request.attribute_definitions(definition);
    }
    for (attribute, kind) in &spec.key_schema {
        let element = KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(KeyType::from(kind.as_str()))
            .build()
            .map_err(|e| e.to_string())?;
        request = request.key_schema(element);
    }
    request.send().await.map_err(|e| {
        format!(
            "creating {name}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        )
    })?;

    if let Some(attribute) = &spec.ttl_attribute {
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(|e| e.to_string())?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "TTL on {name}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })?;
    }
    Ok(())
}

/// Creates the three login tables from the template under the given names.
pub async fn create_login_tables(
    client: &Client,
    template: &str,
    names: &TableNames,
) -> Result<(), String> {
    for (name, spec) in login_tables(template, names)? {
        create_table(client, &name, &spec).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shipped_templates_tables() {
        let names = TableNames {
            user_domain: "d".into(),
            mcc: "m".into(),
            token: "t".into(),
        };
        let tables = login_tables(TEMPLATE, &names).expect("tables");
        let by_name = |n: &str| {
            tables
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, spec)| spec.clone())
                .expect(n)
        };

        let domain = by_name("d");
        assert_eq!(
            domain.key_schema,
            vec![("userDomain".to_owned(), "HASH".to_owned())]
        );
        assert_eq!(
            domain.attributes,
            vec![("userDomain".to_owned(), "S".to_owned())]
        );
        assert_eq!(domain.billing_mode, "PAY_PER_REQUEST");
        assert_eq!(domain.ttl_attribute, None);

        let mcc = by_name("m");
        assert_eq!(mcc.key_schema, vec![("mcc".to_owned(), "HASH".to_owned())]);
        assert_eq!(mcc.attributes, vec![("mcc".to_owned(), "N".to_owned())]);

        let token = by_name("t");
        assert_eq!(
            token.key_schema,
            vec![("tokenHash".to_owned(), "HASH".to_owned())]
        );
        assert_eq!(token.ttl_attribute.as_deref(), Some("expirationTime"));
        assert_eq!(token.billing_mode, "PAY_PER_REQUEST");
    }

    #[test]
    fn a_template_without_the_tables_is_refused() {
        let names = TableNames {
            user_domain: "d".into(),
            mcc: "m".into(),
            token: "t".into(),
        };
        assert!(login_tables("Resources: {}", &names).is_err());
        assert!(table_specs("not: [valid").is_err());
    }
}
