//! Virtual offices: a care-management office (居宅介護支援事業所) or a service office (介護サービス事業所),
//! each with its care software (介護ソフト) and its linkage client (ケアプランデータ連携クライアント).
//!
//! Architecture invariants:
//! - [`CareSoftware`] is pure: it exports standard files from its records and imports files into them,
//!   with no I/O and no clock (the caller passes `now`). It is the stand-in for a vendor's product.
//! - [`VirtualOffice`] adds the office's local folders (outbox, sent, received) and its
//!   [`LinkageClient`](careplan_net::LinkageClient); it reaches the relay only over the wire.
//! - Nothing is lost on failure: a bundle leaves the outbox only once the relay acknowledged it, and a
//!   received file is marked downloaded only once its bytes are stored locally.

mod month;
mod office;
mod software;

pub use month::{MonthExchange, generated_care_manager, generated_providers};
pub use office::{Received, ReceivedFile, SentFile, VirtualOffice};
pub use software::{Bundle, CareSoftware, ImportReport, OfficeError, OfficeProfile, OfficeRole};
