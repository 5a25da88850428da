//! Concurrency against moto: the conditional update decides every race.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use test_world::fault_proxy::Fault;
use tokio::sync::Notify;

use crate::support::acting_user::USER;
use crate::support::events::Answer;
use crate::support::handler::handle;
use crate::support::test_app::{Seed, TestApp, delete_as, sdk_config};

#[tokio::test]
async fn fifty_concurrent_disconnects_give_one_200_and_write_disconnected_at_once() {
    let (app, key) = TestApp::connected().await;
    let proxy = app.aws_proxy().await;
    let mut aws = app.aws.clone();
    aws.dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint).await);
    let use_case = app.use_case_with(&aws);

    let answers = futures::future::join_all(
        (0..50).map(|_| handle(&use_case, delete_as(USER, "acme", "my-backend"))),
    )
    .await;

    let statuses: Vec<u16> = answers
        .into_iter()
        .map(|a| Answer::from(a).status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        49,
        "{statuses:?}"
    );
    let applied_updates = proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "UpdateItem" && c.upstream_status == Some(200))
        .count();
    assert_eq!(
        applied_updates, 1,
        "disconnected_at is written exactly once"
    );
    let item = app.item(&key).await;
    assert_eq!(item["is_active"], AttributeValue::Bool(false));
    assert!(item["disconnected_at"].as_s().is_ok());
}

#[tokio::test]
async fn a_reconnect_written_mid_flight_stays_active() {
    let (app, old) = TestApp::connected().await;
    let proxy = app.aws_proxy().await;
    let (arrived, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    proxy.inject(
        Some("UpdateItem"),
        Fault::Hold {
            arrived: arrived.clone(),
            release: release.clone(),
        },
    );
    let mut aws = app.aws.clone();
    aws.dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint).await);

    let reconnect = async {
        // The disconnect has looked up the installation and is about to
        // deactivate it: the user reconnects the repository right now.
        arrived.notified().await;
        let new = app
            .seed_installation(Seed {
                user: USER,
                repo_full_name: "acme/my-backend",
                installation_id: "inst-2",
                webhook_id: Some(43),
                is_active: true,
            })
            .await;
        let before = app.item(&new).await;
        release.notify_one();
        (new, before)
    };
    let (answer, (new, new_before)) = tokio::join!(
        app.send_with(&aws, delete_as(USER, "acme", "my-backend")),
        reconnect
    );

    assert_eq!(answer.status, 200);
    app.assert_inactive(&old).await;
    assert_eq!(
        app.item(&new).await,
        new_before,
        "the new installation is untouched"
    );
}
