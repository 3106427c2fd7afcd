//! A batch's rows read back exactly as they were sent. On PostgreSQL a batch is written one array
//! a column, with a NULL mask for a column that holds a NULL (`service::unnest`): text that looks
//! like an array literal or a NULL, a NULL beside a value in the same column, and a column NULL
//! in every row must all come back as given.
use entities::{order, person};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{dv_tro, spawn_app};

#[tokio::test]
async fn a_batch_reads_back_as_sent_nulls_and_array_like_text_included() {
    let app = spawn_app().await;
    let awkward = r#"Hon. O'Brien "Jr." {a,b} \ NULL , Núñez"#;
    let mut first = dv_tro("26FL700001", 2);
    first["judicialOfficer"] = json!(awkward);
    first["parties"][0]["person"]["middleName"] = json!("Luz");
    first["parties"][0]["person"]["address"] = json!(r#"{1,"2"} NULL Calle Ñandú \\"#);
    let mut second = dv_tro("26FL700002", 2);
    second.as_object_mut().unwrap().remove("hearingDate");
    second.as_object_mut().unwrap().remove("judicialOfficer");
    second["parties"][0]["person"]["lastName"] = json!("NULL");
    let third = dv_tro("26FL700003", 2);
    let text: String = [&first, &second, &third]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let report = ccpor::import::import_ndjson(
        &app.db,
        std::io::Cursor::new(text),
        ccpor::import::BatchSize::Fixed(10),
        None,
    )
    .await
    .unwrap();
    assert_eq!(report.imported, 3, "{report:?}");

    let orders = order::Entity::find()
        .filter(order::Column::CaseNumber.starts_with("26FL7"))
        .order_by_asc(order::Column::CaseNumber)
        .all(&app.db)
        .await
        .unwrap();
    let officers: Vec<Option<&str>> = orders
        .iter()
        .map(|o| o.judicial_officer.as_deref())
        .collect();
    assert_eq!(
        officers,
        [Some(awkward), None, Some("Hon. A. Synthetic")],
        "{orders:?}"
    );
    let hearings: Vec<bool> = orders.iter().map(|o| o.hearing_date.is_some()).collect();
    assert_eq!(hearings, [true, false, true]);
    assert_eq!(
        orders[0].hearing_date.map(|d| d.to_string()),
        first["hearingDate"].as_str().map(str::to_owned)
    );

    let restrained = person::Entity::find()
        .filter(person::Column::FirstName.eq("Ramiro"))
        .order_by_asc(person::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(restrained.len(), 3, "{restrained:?}");
    let lasts: Vec<Option<&str>> = restrained.iter().map(|p| p.last_name.as_deref()).collect();
    assert_eq!(
        lasts,
        [Some("Quintero Vale"), Some("NULL"), Some("Quintero Vale")]
    );
    let middles: Vec<Option<&str>> = restrained
        .iter()
        .map(|p| p.middle_name.as_deref())
        .collect();
    assert_eq!(middles, [Some("Luz"), None, None]);
    assert_eq!(
        restrained[0].address.as_deref(),
        Some(r#"{1,"2"} NULL Calle Ñandú \\"#)
    );
    assert!(restrained[1].address.is_none() && restrained[2].address.is_none());
    // A column NULL in every row of the batch (the restrained persons' suffix).
    assert!(restrained.iter().all(|p| p.suffix.is_none()));
    let dobs: Vec<Option<String>> = restrained
        .iter()
        .map(|p| p.dob.map(|d| d.to_string()))
        .collect();
    assert_eq!(dobs, vec![Some("1984-02-29".to_owned()); 3]);
    assert!(
        restrained
            .iter()
            .all(|p| p.height_inches == Some(70) && !p.confidential)
    );
}
