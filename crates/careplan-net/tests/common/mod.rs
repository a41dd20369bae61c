//! Helpers shared by the wire tests: an ecosystem on a simulated clock and offices logged in to it.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use careplan_ca::CertificateType;
use careplan_core::{Clock, OfficeNumber, SimulatedClock};
use careplan_ecosystem::{Ecosystem, EcosystemBuilder};
use careplan_licence::{LicenceConfig, PaymentMethod, PersonName, UsageApplication};
use careplan_net::{EcosystemClock, LinkageClient, UsageSiteClient};
use careplan_parties::OfficeSetup;
use time::macros::datetime;

/// An ecosystem started on a simulated clock at 2025-05-01 09:00 JST.
pub(crate) struct Fixture {
    pub(crate) clock: Arc<SimulatedClock>,
    pub(crate) ecosystem: Ecosystem,
}

pub(crate) async fn fixture() -> Fixture {
    fixture_with(careplan_net::ServerLimits::default()).await
}

/// The same ecosystem, its servers applying `limits`.
pub(crate) async fn fixture_with(limits: careplan_net::ServerLimits) -> Fixture {
    fixture_of(limits, Box::new(careplan_relay::MemoryStore::new())).await
}

/// The same ecosystem, its relay keeping send units in `store` (which may hold a history already).
pub(crate) async fn fixture_of(
    limits: careplan_net::ServerLimits,
    store: Box<dyn careplan_relay::Store>,
) -> Fixture {
    let clock = Arc::new(SimulatedClock::new(datetime!(2025-05-01 09:00 +9)));
    // Every office here has the free pass, so licences never lapse unless a test stops auto-renewal.
    let config = LicenceConfig {
        free_pass_from: time::macros::date!(2025 - 01 - 01),
        ..LicenceConfig::default()
    };
    let ecosystem = EcosystemBuilder::new(1, clock.now())
        .clock(EcosystemClock::Simulated(clock.clone()))
        .licence_config(config)
        .server_limits(limits)
        .store(store)
        .prepare()
        .unwrap()
        .start()
        .await
        .unwrap();
    Fixture { clock, ecosystem }
}

impl Fixture {
    pub(crate) fn root(&self) -> rustls::pki_types::CertificateDer<'static> {
        self.ecosystem.root().clone()
    }

    pub(crate) fn client(&self) -> LinkageClient {
        self.ecosystem.linkage_client().unwrap()
    }

    pub(crate) fn site_client(&self) -> UsageSiteClient {
        self.ecosystem.usage_site_client().unwrap()
    }

    /// An office with a changed password (`Secret123`), a usage application and a certificate of
    /// `certificate_type` issued now, logged in to its client.
    pub(crate) async fn office(&self, number: &str, certificate_type: CertificateType) -> LinkageClient {
        let office: OfficeNumber = number.parse().unwrap();
        let now = self.clock.now();
        let provisioned = self
            .ecosystem
            .parties()
            .with(|state| {
                state.provision(
                    now,
                    office,
                    &OfficeSetup {
                        account: Some("Secret123".into()),
                        licence: Some((now, usage_application())),
                        certificate: Some(certificate_type),
                    },
                )
            })
            .unwrap();
        let client = self.client();
        client
            .install_certificate(provisioned.certificate.as_ref().unwrap())
            .unwrap();
        client.login(&provisioned.login_details().unwrap()).await.unwrap();
        client
    }
}

/// A complete, consenting usage application (利用申請).
pub(crate) fn usage_application() -> UsageApplication {
    let name = |family: &str, given: &str| PersonName {
        family: family.into(),
        given: given.into(),
    };
    UsageApplication {
        office_name: "テスト事業所".into(),
        representative: name("山田", "花子"),
        contact: name("佐藤", "一郎"),
        phone: "0312345678".into(),
        email: "office@example.jp".into(),
        email_confirmation: "office@example.jp".into(),
        agree_terms: true,
        agree_privacy: true,
        payment: PaymentMethod::Deduction,
    }
}
