//! The catalogue of stable error codes.
//!
//! A code names one kind of refusal; scenarios assert on codes, never on prose. Codes are never reused;
//! a respelled code is still read under its former spelling. `docs/error-codes.md` is generated from [`ErrorCode::ALL`] (`cargo xtask docs`) and a test
//! fails when it is stale.

use std::fmt;
use std::str::FromStr;

macro_rules! catalogue {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $code:literal, $party:literal, $situation:literal;
    )*) => {
        /// A stable error code. See `docs/error-codes.md` for the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as written in scenarios and reports, e.g. `CERT_EXPIRED`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// What the code means, in one or two sentences.
            pub fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc, "\n"),*).trim_ascii(),)* }
            }

            /// The party (or layer) that raises it.
            pub fn party(self) -> &'static str {
                match self { $(ErrorCode::$variant => $party,)* }
            }

            /// The real-world situation it stands for, in the words an office would meet.
            pub fn situation(self) -> &'static str {
                match self { $(ErrorCode::$variant => $situation,)* }
            }
        }
    };
}

catalogue! {
    /// An office number (事業所番号) is not 10 digits starting with a prefecture code 01–47.
    OfficeNumberInvalid = "OFFICE_NUMBER_INVALID", "core",
        "事業所番号の桁数・都道府県番号の誤り";
    /// An office user ID is not `KJ` + prefecture code + office number.
    OfficeUserIdInvalid = "OFFICE_USER_ID_INVALID", "core",
        "ユーザIDの形式誤り（KJ＋都道府県番号＋事業所番号）";
    /// A billing-proxy ID (代理請求 ID, `HD…`) was used where an office's own ID is needed.
    ProxyIdNotAllowed = "PROXY_ID_NOT_ALLOWED", "core",
        "代理請求用のユーザID（HD…）ではケアプランデータ連携システムを利用できない";
    /// A service kind (サービス種類コード) is not two characters from `[0-9A-Z]`.
    ServiceKindInvalid = "SERVICE_KIND_INVALID", "core",
        "サービス種類コードの形式誤り";
    /// A service month (対象年月) is not a valid `YYYYMM`.
    CareMonthInvalid = "CARE_MONTH_INVALID", "core",
        "対象年月の形式誤り";
    /// A time span (e.g. a clock move in a scenario) could not be read or leaves the calendar.
    SpanInvalid = "SPAN_INVALID", "scenario",
        "（シミュレータ）時間指定の誤り";
    /// Bytes are not valid MS932 (Shift_JIS), or text cannot be written in MS932.
    EncodingInvalid = "ENCODING_INVALID", "spec",
        "CSVファイルの文字コードがShift-JIS（MS932）ではない、またはMS932外の文字を含む";
    /// A CSV file cannot be parsed (unbalanced quotes, wrong number of fields).
    CsvMalformed = "CSV_MALFORMED", "spec",
        "CSVファイルの形式誤り（項目数・引用符）で取り込めない";
    /// A file name does not follow the standard's naming rule.
    FileNameInvalid = "FILE_NAME_INVALID", "spec / relay",
        "ファイル名が標準仕様の命名規則に従っていない";
    /// The files of one send do not form a valid send unit (送信単位).
    FileSetInvalid = "FILE_SET_INVALID", "relay",
        "添付いただいたファイルの組み合わせが正しくありません";
    /// The sender office in a file name is not the office of the client certificate.
    SenderMismatch = "SENDER_MISMATCH", "relay",
        "ファイル名の送信元事業所番号がクライアント証明書の事業所と一致しない";
    /// A file is addressed to the sender's own office number.
    SameOffice = "SAME_OFFICE", "relay",
        "同一事業所番号宛の送信はできない";
    /// A send's request body exceeds the relay's size limit.
    SendTooLarge = "SEND_TOO_LARGE", "relay",
        "送信ファイルのサイズが上限を超えている";
    /// The requested file is not in the office's inbox.
    FileNotFound = "FILE_NOT_FOUND", "relay",
        "受信一覧に該当ファイルがない";
    /// A PDF attachment (添付PDF) has an unusable name or is not a PDF file.
    AttachmentInvalid = "ATTACHMENT_INVALID", "relay",
        "添付ファイル（PDF）の名称または形式が不正";
    /// The strict relay read the CSV files of a send and found errors against the standard.
    ContentInvalid = "CONTENT_INVALID", "relay (strict)",
        "（厳格モード）送信CSVが標準仕様に適合しない";
    /// A send unit with this sender, receiver and serial (ファイル連番) was already accepted with other files.
    SerialReused = "SERIAL_REUSED", "relay",
        "同じファイル連番で異なる内容のファイルが既に送信されている";
    /// An earlier send unit (by serial) from the same sender waits to be downloaded first.
    SerialOrder = "SERIAL_ORDER", "relay",
        "ファイル連番の古い送信単位が未ダウンロードのため、先にそちらを受信する必要がある";
    /// The send unit is not in this office's inbox or sent list.
    SendUnitNotFound = "SEND_UNIT_NOT_FOUND", "relay",
        "該当する送信データがない";
    /// The sender cancelled the send unit; its files are gone.
    SendUnitCancelled = "SEND_UNIT_CANCELLED", "relay",
        "送信元により送信が取り消された";
    /// The retention period passed; the send unit's files were purged.
    SendUnitExpired = "SEND_UNIT_EXPIRED", "relay",
        "保存期間を過ぎたため削除された";
    /// The receiver has already downloaded the send unit, so it can no longer be cancelled.
    SendUnitAlreadyDownloaded = "SEND_UNIT_ALREADY_DOWNLOADED", "relay",
        "受信側がダウンロード済のため送信を取り消せない";
    /// The receiver has already received the send unit and the relay allows cancelling only unread ones.
    SendUnitAlreadyReceived = "SEND_UNIT_ALREADY_RECEIVED", "relay",
        "受信側が受信済のため送信を取り消せない";
    /// This relay does not allow senders to cancel.
    CancelNotAllowed = "CANCEL_NOT_ALLOWED", "relay",
        "送信の取消はできない";
    /// The relay's store or the web parties' journal failed (database unreachable or corrupt); nothing was
    /// changed.
    StoreUnavailable = "STORE_UNAVAILABLE", "relay",
        "（シミュレータ）連携基盤のデータストアに接続できない";
    /// The office has no exported file waiting to be sent to that receiver.
    NothingToSend = "NOTHING_TO_SEND", "office",
        "送信するファイルがアップロードされていない";
    /// Imported actuals name a user (利用者) the care software has no plan for.
    ActualUserUnknown = "ACTUAL_USER_UNKNOWN", "office",
        "実績取込時に対応する利用者・予定が介護ソフトに存在しない";
    /// The care software does not import this kind of file (or not in this office's role).
    ImportUnsupported = "IMPORT_UNSUPPORTED", "office",
        "介護ソフトが取込に対応していないファイル種別（または受信側の役割と合わない）";
    /// A vendor's care software, driven through its adapter, exited with a failure status.
    AdapterFailed = "ADAPTER_FAILED", "adapter",
        "（シミュレータ）ベンダーの介護ソフトが操作に失敗した（終了ステータスが0以外）";
    /// A vendor's care software did not finish an operation within the adapter's time limit.
    AdapterTimeout = "ADAPTER_TIMEOUT", "adapter",
        "（シミュレータ）ベンダーの介護ソフトが制限時間内に操作を終えなかった";
    /// The adapter declares no command for the operation a step needs (e.g. a provider-only product
    /// asked to export plans).
    AdapterUnsupported = "ADAPTER_UNSUPPORTED", "adapter",
        "（シミュレータ）ベンダーの介護ソフトがその操作に対応していない";
    /// A vendor's care software finished but left no usable output: no file in the outbox, a report that
    /// is not the contract's JSON, a file that cannot be read.
    AdapterOutputInvalid = "ADAPTER_OUTPUT_INVALID", "adapter",
        "（シミュレータ）ベンダーの介護ソフトの出力が取り決めに沿っていない";
    /// A request to the portal, the usage site or the admin endpoint is larger than such a request can be.
    RequestTooLarge = "REQUEST_TOO_LARGE", "net",
        "（シミュレータ）ポータル等への要求が大きすぎる（入力内容が上限を超えている）";
    /// A request to `serve`'s admin endpoint without its token, or with another.
    AdminTokenInvalid = "ADMIN_TOKEN_INVALID", "net",
        "（シミュレータ）管理用エンドポイントへの要求にトークンがない、または誤っている";
    /// A client did not send its request's body within the server's time limit.
    RequestTimeout = "REQUEST_TIMEOUT", "net",
        "（シミュレータ）要求の本文が制限時間内に届かなかった（通信の途絶・低速な接続）";
    /// A request that is not HTTP/1.1 the server can read (a malformed request line or header, a bad
    /// `Content-Length`): answered 400 by the HTTP parser.
    RequestMalformed = "REQUEST_MALFORMED", "net",
        "（シミュレータ）HTTP要求の形式が正しくない（要求行・ヘッダの誤り）";
    /// A request target longer than the server reads: answered 414.
    RequestUriTooLong = "REQUEST_URI_TOO_LONG", "net",
        "（シミュレータ）HTTP要求のURIが長すぎる";
    /// A request head (headers) larger, or with more headers, than the server reads: answered 431.
    RequestHeadTooLarge = "REQUEST_HEAD_TOO_LARGE", "net",
        "（シミュレータ）HTTP要求のヘッダが大きすぎる、または多すぎる";
    /// A request in an HTTP version the servers do not speak (they speak HTTP/1.1): answered 505.
    HttpVersionUnsupported = "HTTP_VERSION_UNSUPPORTED", "net",
        "（シミュレータ）対応していないHTTPのバージョン（HTTP/1.1のみ）";
    /// An instant outside the simulated clock's range (2000-01-01 to 2099-12-31 JST): a setting there could
    /// not be expressed in certificates and revocation lists.
    ClockOutOfRange = "CLOCK_OUT_OF_RANGE", "clock",
        "（シミュレータ）模擬時計を設定できる範囲（2000年1月1日～2099年12月31日）の外";
    /// A case to prepare (contract 1's neutral JSON, or a `prepare` step) has a bad value, a service of a
    /// provider it does not list or of another kind, a date outside its month, or a user planned over the
    /// benefit limit.
    CaseInvalid = "CASE_INVALID", "adapter",
        "（シミュレータ）介護ソフトに準備するケース（利用者・予定）の内容に誤りがある";
    /// The client certificate's validity ended before the handshake (simulated time).
    CertExpired = "CERT_EXPIRED", "TLS",
        "電子証明書の有効期限切れ（有効期限日の23:59:59を過ぎている）";
    /// The client certificate's validity has not started yet.
    CertNotYetValid = "CERT_NOT_YET_VALID", "TLS",
        "電子証明書の有効期間開始前";
    /// The client certificate was not issued by the e-seikyu CA.
    CertUntrusted = "CERT_UNTRUSTED", "TLS",
        "e-seikyu CA以外が発行した証明書、または証明書が正しくインストールされていない";
    /// The client presented no certificate.
    CertRequired = "CERT_REQUIRED", "TLS",
        "電子証明書がインストールされていない";
    /// The certificate is valid but of a type that cannot be used for care plan linkage.
    CertWrongType = "CERT_WRONG_TYPE", "TLS / relay",
        "代理請求用・障害福祉用など、ケアプランデータ連携に使えない種類の証明書";
    /// A send, receipt or download before the system went into production (2023-04-20 JST), or a usage
    /// application before the site opened (2023-04-01 JST).
    ServiceNotStarted = "SERVICE_NOT_STARTED", "relay",
        "ケアプランデータ連携システムの稼働前（本番稼働は2023年4月20日、利用申請の受付は4月1日から）";
    /// The client certificate was revoked by the CA (失効) and the relay's revocation list says so.
    CertRevoked = "CERT_REVOKED", "TLS",
        "失効依頼により失効した電子証明書";
    /// The relay's own server certificate failed verification by the client.
    ServerCertInvalid = "SERVER_CERT_INVALID", "TLS",
        "接続先サーバの証明書を検証できない";
    /// The TLS handshake failed for a reason not covered by a more precise code.
    TlsHandshakeFailed = "TLS_HANDSHAKE_FAILED", "TLS",
        "通信の暗号化（TLS）に失敗";
    /// The relay could not be reached or dropped the connection.
    RelayUnreachable = "RELAY_UNREACHABLE", "net",
        "連携基盤に接続できない";
    /// The e-billing portal could not be reached or dropped the connection.
    PortalUnreachable = "PORTAL_UNREACHABLE", "net",
        "電子請求受付システムに接続できない";
    /// The relay answered with something the client does not understand.
    ProtocolError = "PROTOCOL_ERROR", "net",
        "連携基盤からの応答を解釈できない";
    /// An issuance request (発行願) for an office that already has a user ID.
    AccountExists = "ACCOUNT_EXISTS", "federation",
        "その事業所番号にはすでにユーザIDが発行されている（紛失時は再発行を申請する）";
    /// The user ID or the password is wrong.
    LoginFailed = "LOGIN_FAILED", "e-billing portal",
        "ユーザIDまたはパスワードが誤っている";
    /// Three wrong passwords in a row locked the account; it opens again after 30 minutes.
    AccountLocked = "ACCOUNT_LOCKED", "e-billing portal",
        "パスワードを3回続けて誤ったためロックされている（30分経過後に解除）";
    /// The password is still the temporary one from the federation's notice: change it in the portal first.
    PasswordTemporary = "PASSWORD_TEMPORARY", "e-billing portal",
        "仮パスワードのまま：電子請求受付システムにログインしてパスワードを変更するまで利用できない";
    /// The password is past its lifetime (90 days by default): change it in the portal.
    PasswordExpired = "PASSWORD_EXPIRED", "e-billing portal",
        "パスワードの有効期限切れ：電子請求受付システムで変更が必要";
    /// The portal's terms of use must be accepted before the first password change.
    TermsNotAccepted = "TERMS_NOT_ACCEPTED", "e-billing portal",
        "初回ログイン時の利用規約に同意していない";
    /// A new password is shorter than 8 characters.
    PasswordTooShort = "PASSWORD_TOO_SHORT", "e-billing portal",
        "パスワードが8文字未満";
    /// A new password is longer than 16 characters.
    PasswordTooLong = "PASSWORD_TOO_LONG", "e-billing portal",
        "パスワードが16文字を超えている";
    /// A new password holds a character outside letters, digits and the allowed symbols.
    PasswordCharacterNotAllowed = "PASSWORD_CHARACTER_NOT_ALLOWED", "e-billing portal",
        "パスワードに使えない文字（全角文字、空白、許可されていない記号）が含まれている";
    /// A new password has no letter.
    PasswordNeedsLetter = "PASSWORD_NEEDS_LETTER", "e-billing portal",
        "パスワードに英字が含まれていない";
    /// A new password has no digit.
    PasswordNeedsDigit = "PASSWORD_NEEDS_DIGIT", "e-billing portal",
        "パスワードに数字が含まれていない";
    /// A new password equals the user ID.
    PasswordEqualsUserId = "PASSWORD_EQUALS_USER_ID", "e-billing portal",
        "パスワードがユーザIDと同じ";
    /// A portal operation without a valid session (not logged in, or logged out).
    SessionInvalid = "SESSION_INVALID", "e-billing portal",
        "ログインしていない、またはセッションが無効";
    /// A portal or usage-site session that has ended: unused for too long, or open too long since its
    /// login (assumed 30 minutes and 8 hours).
    SessionExpired = "SESSION_EXPIRED", "e-billing portal",
        "一定時間操作がなかった、またはログインから時間が経ったためセッションが切れた：再ログインが必要";
    /// The portal requires a changed password (and accepted terms) before this operation.
    PasswordChangeRequired = "PASSWORD_CHANGE_REQUIRED", "e-billing portal",
        "仮パスワード・期限切れパスワードでログイン中：パスワード変更以外の操作はできない";
    /// A confirmation code (e-mail registration or login-details reset) is wrong, has expired, or was
    /// entered wrong 3 times (void: a new one must be asked for).
    ConfirmationCodeInvalid = "CONFIRMATION_CODE_INVALID", "e-billing portal",
        "確認コード（4桁）が誤っている、有効期限切れ、または3回誤って無効になった";
    /// A reset by e-mail needs the confirmed security e-mail address of the account.
    EmailNotRegistered = "EMAIL_NOT_REGISTERED", "e-billing portal",
        "セキュリティ用メールアドレスが未登録、または登録済みのアドレスと異なる（郵送での再発行を申請する）";
    /// A certificate application or download with a wrong certificate-issuance password.
    IssuancePasswordWrong = "ISSUANCE_PASSWORD_WRONG", "e-billing portal",
        "証明書発行用パスワードが誤っている（紛失時は電子請求受付システムで再発行する）";
    /// A new certificate application while the office holds a valid certificate: renew it instead.
    CertificateExists = "CERTIFICATE_EXISTS", "CA",
        "有効な電子証明書がすでにある（1事業所番号につき1枚：有効期限の3か月前から更新する）";
    /// An application while another one of the office is still waiting for approval or issuance.
    CertApplicationPending = "CERT_APPLICATION_PENDING", "CA",
        "証明書の発行申請中（発行申請中）：承認・発行を待つ";
    /// No certificate has been issued to the office (nothing to download, renew or revoke).
    CertNotIssued = "CERT_NOT_ISSUED", "CA",
        "発行済みの電子証明書がない";
    /// A renewal before the window opens, 3 months before the certificate's end date.
    CertRenewalTooEarly = "CERT_RENEWAL_TOO_EARLY", "CA",
        "更新申請は有効期限日の3か月前から：まだ更新できない";
    /// A renewal after the certificate's end date (23:59:59): only a new application is possible.
    CertRenewalTooLate = "CERT_RENEWAL_TOO_LATE", "CA",
        "有効期限切れの証明書は更新できない：新規に発行申請する";
    /// A certificate type the portal does not issue to care offices through this application.
    CertTypeNotOffered = "CERT_TYPE_NOT_OFFERED", "CA",
        "介護事業所の証明書申請で選べない証明書の種類";
    /// The certificate is already revoked.
    CertAlreadyRevoked = "CERT_ALREADY_REVOKED", "CA",
        "すでに失効している電子証明書";
    /// A PKCS#12 send unit did not open with the password given at installation.
    Pkcs12PasswordWrong = "PKCS12_PASSWORD_WRONG", "linkage client",
        "証明書のインストール時のパスワード（証明書発行用パスワード）が誤っている";
    /// A linkage-client operation before the office logged in to the client.
    ClientNotLoggedIn = "CLIENT_NOT_LOGGED_IN", "linkage client",
        "ケアプランデータ連携クライアントにログインしていない";
    /// The first step of the linkage client's login: the personal user ID or its password is wrong.
    PersonalLoginFailed = "PERSONAL_LOGIN_FAILED", "linkage client",
        "個人ユーザID（careplan@…）またはそのパスワードが誤っている";
    /// The two login steps name different offices: the personal user ID belongs to another office number
    /// than the `KJ` user ID.
    PersonalIdMismatch = "PERSONAL_ID_MISMATCH", "linkage client",
        "個人ユーザIDと事業所のユーザID（KJ…）が別の事業所番号のもの";
    /// `serve` runs on the system clock: its admin endpoint cannot move time (start it with
    /// `--clock simulated`).
    ClockNotSimulated = "CLOCK_NOT_SIMULATED", "net",
        "（シミュレータ）システム時刻で動作中のため時刻を変更できない";
    /// The usage-application site could not be reached or dropped the connection.
    UsageSiteUnreachable = "USAGE_SITE_UNREACHABLE", "net",
        "利用状況Webサイトに接続できない";
    /// The usage application (利用申請) has no office name.
    ApplicationOfficeNameMissing = "APPLICATION_OFFICE_NAME_MISSING", "usage site",
        "利用申請：事業所名が未入力";
    /// The usage application has no family name for the representative.
    ApplicationRepresentativeFamilyNameMissing = "APPLICATION_REPRESENTATIVE_FAMILY_NAME_MISSING", "usage site",
        "利用申請：代表者氏名（姓）が未入力";
    /// The usage application has no given name for the representative.
    ApplicationRepresentativeGivenNameMissing = "APPLICATION_REPRESENTATIVE_GIVEN_NAME_MISSING", "usage site",
        "利用申請：代表者氏名（名）が未入力";
    /// The usage application has no family name for the contact person.
    ApplicationContactFamilyNameMissing = "APPLICATION_CONTACT_FAMILY_NAME_MISSING", "usage site",
        "利用申請：担当者氏名（姓）が未入力";
    /// The usage application has no given name for the contact person.
    ApplicationContactGivenNameMissing = "APPLICATION_CONTACT_GIVEN_NAME_MISSING", "usage site",
        "利用申請：担当者氏名（名）が未入力";
    /// The phone number is not 10 or 11 half-width digits starting with 0 (hyphens are refused).
    ApplicationPhoneInvalid = "APPLICATION_PHONE_INVALID", "usage site",
        "利用申請：電話番号は半角数字のみ（ハイフンなし）で入力する";
    /// The e-mail address is missing or not an address.
    ApplicationEmailInvalid = "APPLICATION_EMAIL_INVALID", "usage site",
        "利用申請：メールアドレスが未入力、または形式が正しくない";
    /// The e-mail confirmation differs from the e-mail address.
    ApplicationEmailMismatch = "APPLICATION_EMAIL_MISMATCH", "usage site",
        "利用申請：メールアドレス（確認用）がメールアドレスと一致しない";
    /// The terms of use (利用規約) were not agreed to.
    ApplicationTermsNotAgreed = "APPLICATION_TERMS_NOT_AGREED", "usage site",
        "利用申請：利用規約に同意していない";
    /// The privacy policy (個人情報の取扱い) was not agreed to.
    ApplicationPrivacyNotAgreed = "APPLICATION_PRIVACY_NOT_AGREED", "usage site",
        "利用申請：個人情報の取扱いに同意していない";
    /// A second usage application for an office number that already has one (one licence per number).
    UsageApplicationExists = "USAGE_APPLICATION_EXISTS", "usage site",
        "その事業所番号ではすでに利用申請済み（ライセンスは事業所番号ごとに1つ）";
    /// A licence operation for an office number that never filed a usage application.
    UsageNotApplied = "USAGE_NOT_APPLIED", "usage site",
        "利用申請がされていない事業所番号";
    /// A licence cannot be cancelled or refunded once applied for, for any reason.
    LicenceCancelNotAllowed = "LICENCE_CANCEL_NOT_ALLOWED", "usage site",
        "利用申請後のキャンセル・返金はできない（フリーパスも期間途中の解約不可）";
    /// A manual renewal before the renewal period opens (assumed: 1 month before the licence's last day).
    LicenceRenewalTooEarly = "LICENCE_RENEWAL_TOO_EARLY", "usage site",
        "ライセンスの更新期間前：まだ更新できない";
    /// A manual renewal of a licence that is already renewed for its next year.
    LicenceAlreadyRenewed = "LICENCE_ALREADY_RENEWED", "usage site",
        "次年度のライセンスは更新済み";
    /// A manual renewal of a licence that renews automatically (applications from 2025-06-01).
    LicenceRenewsAutomatically = "LICENCE_RENEWS_AUTOMATICALLY", "usage site",
        "自動更新のライセンス：手動の更新手続きは不要（停止する場合は自動更新を停止する）";
    /// Auto-renewal was switched for a licence applied for before 2025-06-01, which renews by hand.
    LicenceAutoRenewalUnavailable = "LICENCE_AUTO_RENEWAL_UNAVAILABLE", "usage site",
        "2025年6月1日より前の利用申請のライセンスは自動更新の対象外：手動で更新する";
    /// Auto-renewal cannot be switched back on once the licence has lapsed: renew it by hand.
    LicenceLapsed = "LICENCE_LAPSED", "usage site",
        "ライセンスの有効期限切れ：更新手続きが必要";
    /// An invoice payment when no licence fee is due by invoice.
    LicenceNothingDue = "LICENCE_NOTHING_DUE", "usage site",
        "支払うべきライセンス料（請求書払い）がない";
    /// The sender's own licence is missing or has lapsed: nothing can be sent.
    LicenceRequired = "LICENCE_REQUIRED", "relay",
        "送信元事業所が利用申請していない、またはライセンスの有効期限切れ";
    /// The receiver office never filed a usage application.
    ReceiverUnregistered = "RECEIVER_UNREGISTERED", "relay",
        "送信先の事業所がケアプランデータ連携システムに利用登録していない";
    /// The receiver office is registered but its licence has lapsed.
    ReceiverUnlicensed = "RECEIVER_UNLICENSED", "relay",
        "送信先の事業所のライセンスが有効でない（有効期限切れ・自動更新停止）";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not a code of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a known error code (see docs/error-codes.md)")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let current = |text: &str| ErrorCode::ALL.iter().copied().find(|code| code.as_str() == text);
        current(s)
            .or_else(|| {
                // A former spelling is read as the code it became.
                RESPELLED
                    .iter()
                    .find_map(|(former, now)| s.strip_prefix(former).map(|rest| format!("{now}{rest}")))
                    .and_then(|text| current(&text))
            })
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

/// Prefixes respelled once to the glossary's words — licence (ライセンス) and send unit (送信単位) — as
/// (former, current). Former spellings are still read wherever a code is read.
const RESPELLED: [(&str, &str); 2] = [("LICENSE_", "LICENCE_"), ("BUNDLE_", "SEND_UNIT_")];

impl ErrorCode {
    /// The code's former spelling, if it was respelled.
    pub fn former_spelling(self) -> Option<String> {
        RESPELLED.iter().find_map(|(former, now)| {
            self.as_str()
                .strip_prefix(now)
                .map(|rest| format!("{former}{rest}"))
        })
    }
}

impl ErrorCode {
    /// The catalogue as Markdown, the content of `docs/error-codes.md`.
    pub fn catalogue_markdown() -> String {
        let mut out = String::from(
            "# Error codes\n\n\
             Every refusal in careplan-sim carries one of these stable codes. Scenarios assert on them with\n\
             `expect_error = \"CODE\"`; reports and `--format json` output carry them verbatim. Codes are never\n\
             reused. Two families were respelled once, to the glossary's words: `LICENSE_…` became `LICENCE_…`\n\
             and `BUNDLE_…` became `SEND_UNIT_…`; the former spellings are still read wherever a code is read.\n\n\
             This file is generated from `crates/careplan-core/src/error_code.rs` by `cargo xtask docs`; a test\n\
             fails when it is stale.\n\n\
             | code | raised by | meaning | real-world situation |\n\
             |---|---|---|---|\n",
        );
        for code in ErrorCode::ALL {
            let meaning = code.meaning().replace('\n', " ");
            let formerly = code
                .former_spelling()
                .map_or_else(String::new, |former| format!(" (formerly `{former}`)"));
            out.push_str(&format!(
                "| `{code}`{formerly} | {} | {meaning} | {} |\n",
                code.party(),
                code.situation()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn former_spellings_are_read_as_the_codes_they_became() {
        assert_eq!("LICENSE_REQUIRED".parse(), Ok(ErrorCode::LicenceRequired));
        assert_eq!("BUNDLE_EXPIRED".parse(), Ok(ErrorCode::SendUnitExpired));
        assert_eq!(
            ErrorCode::SendUnitNotFound.former_spelling().as_deref(),
            Some("BUNDLE_NOT_FOUND")
        );
        assert_eq!(ErrorCode::CertExpired.former_spelling(), None);
        assert!("LICENSE_UNHEARD_OF".parse::<ErrorCode>().is_err());
        assert!("BUNDLE_".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn codes_are_unique_upper_snake_case_and_round_trip() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate {text}");
            assert!(
                text.starts_with(|c: char| c.is_ascii_uppercase())
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{text}"
            );
            assert_eq!(text.parse::<ErrorCode>().unwrap(), *code);
            assert!(!code.meaning().is_empty() && !code.situation().is_empty());
        }
        assert!("CERT_EXPIRD".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn the_published_catalogue_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/error-codes.md");
        let published = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            published == ErrorCode::catalogue_markdown(),
            "docs/error-codes.md is stale: run `cargo xtask docs`"
        );
    }
}
