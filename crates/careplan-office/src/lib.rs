//! Virtual offices: a care-management office (居宅介護支援事業所) or a service office (介護サービス事業所),
//! each with its care software (介護ソフト) and its linkage client (ケアプランデータ連携クライアント).
//!
//! Architecture invariants:
//! - [`CareSoftware`] is the seam between an office and the product it runs: it exports standard files
//!   and imports received ones, and its errors ([`SoftwareError`]) know nothing of the network.
//!   [`SyntheticSoftware`] is pure (no I/O, no clock: the caller passes `now`); [`AdapterSoftware`] is a
//!   vendor's product driven through its adapter (contract [`CONTRACT`], `docs/adapter.md`), its calls
//!   run by a [`Runner`] on this machine or in a container, each bounded in time and recorded as an event.
//! - What a software holds can be asked as neutral visits ([`Holdings`]), so that two products are
//!   compared by meaning as well as by bytes; what a care manager plans can be given to it as a neutral
//!   [`Case`] (`prepare`), parsed whole into a [`PreparedMonth`] or refused with the path of its first
//!   bad value.
//! - [`VirtualOffice`] adds the office's local folders (outbox, sent, received) and its
//!   [`LinkageClient`](careplan_net::LinkageClient); it reaches the relay only over the wire.
//! - Nothing is lost on failure: a send unit leaves the outbox only once the relay acknowledged it, and a
//!   received file is marked downloaded only once its bytes are stored locally.

mod adapter;
mod case;
mod month;
mod office;
mod software;

pub use adapter::{
    Adapter, AdapterFileError, AdapterSoftware, CONTRACT, Call, HostRunner, Operation, Ran, Runner,
    RunningCall, bin_dir, stop_running_calls,
};
pub use case::{Case, CaseError, CaseOffice, CaseService, CaseUser, PreparedMonth, PreparedUser};
pub use month::{MonthExchange, generated_care_manager, generated_providers};
pub use office::{OfficeError, Received, ReceivedFile, SentFile, VirtualOffice};
pub use software::{
    CareSoftware, DEFAULT_USERS, Export, HeldTables, Holdings, ImportReport, OfficeProfile, OfficeRole,
    SendUnit, SoftwareError, SyntheticSoftware, Visit, Withdrawn,
};
