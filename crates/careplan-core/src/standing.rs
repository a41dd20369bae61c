//! An office's standing with the usage-application site, the fact the relay needs from it.

/// Where an office stands with the usage-application site (利用状況Webサイト): data flows only between
/// offices that are both registered (利用申請済み) and licensed (ライセンス有効).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LicenceStanding {
    /// The office never filed a usage application (利用申請).
    Unregistered,
    /// The office applied, but no licence term covers the instant asked about (lapsed, or auto-renewal
    /// stopped).
    Unlicensed,
    /// A licence term covers the instant asked about.
    Licensed,
}
