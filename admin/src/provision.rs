//! The tables, created exactly as `template.yaml` defines them: the template is the one place
//! their key schema, local indexes and TTL are written, and local runs and tests create them from there.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use twitter_auth_login::config::{Table, TableNames};

use crate::error::{AdminError, describe};
use crate::template::{TableSpec, Template};

/// The template's definition of each table that has a name in `names`, paired with that name.
pub fn named_tables(
    template: &Template,
    names: &TableNames,
) -> Result<Vec<(String, TableSpec)>, String> {
    let specs = template.tables()?;
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

/// Creates one table as the spec says, with its local indexes and TTL, at `endpoint` (named
/// in messages).
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
    let key_schema = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(attribute, kind)| {
                KeySchemaElement::builder()
                    .attribute_name(attribute)
                    .key_type(KeyType::from(kind.as_str()))
                    .build()
                    .map_err(invalid)
            })
            .collect::<Result<Vec<_>, _>>()
    };
    request = request.set_key_schema(Some(key_schema(&spec.key_schema)?));
    for index in &spec.local_indexes {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(index.projection.as_str()))
            .set_non_key_attributes(
                (!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()),
            )
            .build();
        let index = LocalSecondaryIndex::builder()
            .index_name(&index.name)
            .set_key_schema(Some(key_schema(&index.key_schema)?))
            .projection(projection)
            .build()
            .map_err(invalid)?;
        request = request.local_secondary_indexes(index);
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
    template: &Template,
    names: &TableNames,
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

    #[test]
    fn only_named_tables_are_taken() {
        let names = TableNames::default().with(Table::Token, "tokens");
        let tables = named_tables(&Template::shipped(), &names).expect("tables");
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].0, "tokens");
        assert_eq!(tables[0].1.logical_id, "TokenTable");
        let all = Table::ALL
            .into_iter()
            .fold(TableNames::default(), |names, table| {
                names.with(table, table.logical_id())
            });
        assert_eq!(
            named_tables(&Template::shipped(), &all).map(|t| t.len()),
            Ok(5)
        );
    }

    #[test]
    fn a_template_without_the_tables_is_refused() {
        let empty = Template::parse("Resources: {}").expect("template");
        let names = TableNames::default().with(Table::Token, "tokens");
        assert!(named_tables(&empty, &names).is_err());
    }
}
