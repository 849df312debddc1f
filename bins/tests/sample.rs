//! The sample data of `demo`, `sandbox` and the tests (`raynet_sync::demo::seed`) as the APIs
//! show it: readable through the Raynet client and adapter, and the members' own keys work.
//! (Moved from raynet-client's `fake_api` tests with the sample data itself.)

use chrono::TimeZone as _;
use raynet_client::ListQuery;
use raynet_sync::demo::{INSTANCE, Sandbox};
use sync_core::{ReadRequest, ReadSide};

#[tokio::test]
async fn demo_seed_is_readable_through_the_client_and_adapter() {
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 10, 22, 10, 0, 0)
        .unwrap();
    let sandbox = Sandbox::start(now).await.unwrap();
    let fake = &sandbox.raynet;
    let client = fake.client_builder().instance(INSTANCE).build().unwrap();
    assert_eq!(
        client
            .meetings()
            .list_all(&ListQuery::new())
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        client
            .events()
            .list_all(&ListQuery::new())
            .await
            .unwrap()
            .len(),
        2
    );
    let cal = raynet_client::adapter::RaynetCalendar::new(client.clone(), sandbox.data.jana_person);
    let read = cal
        .read(&ReadRequest {
            window: None,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(read.items.len(), 4, "Jana's two meetings and two events");
    assert!(read.unreadable.is_empty());
    assert!(
        read.items.iter().any(|r| r.item.schedule.is_all_day()),
        "the fair is all-day"
    );
    let jana = raynet_client::Client::builder()
        .base_url(fake.base_url())
        .instance(INSTANCE)
        .credentials("jana.novakova@acme.test", "crm-demo-jana")
        .build()
        .unwrap();
    let svoboda = client
        .persons()
        .list_all(&ListQuery::new())
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.last_name.as_deref() == Some("Svoboda"))
        .expect("the sample's first person");
    assert_eq!(
        jana.persons()
            .get(svoboda.id)
            .await
            .unwrap()
            .primary_company_name(),
        Some("Acme Stroje a.s.")
    );
}
