//! What each kind of provider delivers in generated plans: service items with units and durations, and
//! rental products with TAIS codes.
//!
//! The codes are shaped like the national service code table (kind 2 + item 4, spec §6.6 №15) and the
//! units are of the right order, but they are illustrative: the generator needs plausible, in-scope
//! codes, not a billing table.

use careplan_core::ServiceKind;
use careplan_spec::records::{CareLevel, ServiceCode};

/// One service item of a provider's menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceItem {
    /// Service code (サービスコード).
    pub code: &'static str,
    /// Short name (サービス内容略称).
    pub name: &'static str,
    /// Units per occurrence (or per day, or per month for rentals).
    pub units: u32,
    /// Minutes per visit; 0 for services shown without a time.
    pub minutes: u16,
}

impl ServiceItem {
    /// The code as a typed service code.
    pub fn service_code(&self) -> ServiceCode {
        // Invariant: every code of this catalogue is 6 characters from [0-9A-Z] (tested).
        self.code
            .parse()
            .unwrap_or_else(|()| unreachable!("catalogue code {} is valid", self.code))
    }
}

/// Home help (訪問介護, 11).
pub const HOME_HELP: [ServiceItem; 3] = [
    ServiceItem {
        code: "111111",
        name: "身体介護1",
        units: 244,
        minutes: 30,
    },
    ServiceItem {
        code: "111211",
        name: "身体介護2",
        units: 387,
        minutes: 60,
    },
    ServiceItem {
        code: "112211",
        name: "生活援助2",
        units: 179,
        minutes: 45,
    },
];

/// Visiting nursing (訪問看護, 13).
pub const VISITING_NURSING: ServiceItem = ServiceItem {
    code: "131111",
    name: "訪看I2",
    units: 471,
    minutes: 30,
};

/// Day care (通所介護, 15), 7–8 hours, by care level 要介護1–5.
pub fn day_care(level: CareLevel) -> ServiceItem {
    let (code, units) = match level {
        CareLevel::Care2 => ("151121", 775),
        CareLevel::Care3 => ("151131", 893),
        CareLevel::Care4 => ("151141", 1_016),
        CareLevel::Care5 => ("151151", 1_139),
        _ => ("151111", 658),
    };
    ServiceItem {
        code,
        name: "通所介護Ⅰ２３",
        units,
        minutes: 7 * 60,
    }
}

/// Day care bathing add-on (入浴介助加算Ⅰ), on the same day and time as the day care (spec §8.7).
pub const DAY_CARE_BATHING: ServiceItem = ServiceItem {
    code: "155051",
    name: "通所介護入浴介助加算Ⅰ",
    units: 40,
    minutes: 7 * 60,
};

/// Short-stay daily-life care (短期入所生活介護, 21), per day, by care level 要介護1–5.
pub fn short_stay(level: CareLevel) -> ServiceItem {
    let (code, units) = match level {
        CareLevel::Care2 => ("211121", 672),
        CareLevel::Care3 => ("211131", 745),
        CareLevel::Care4 => ("211141", 815),
        CareLevel::Care5 => ("211151", 884),
        _ => ("211111", 603),
    };
    ServiceItem {
        code,
        name: "短期生活Ⅰ",
        units,
        minutes: 0,
    }
}

/// A rental product (福祉用具, 17): its TAIS code and name, and the item it is rented as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RentalProduct {
    /// The rental item (units per month).
    pub item: ServiceItem,
    /// TAISコード `NNNNN-NNNNNN`.
    pub tais_code: &'static str,
    /// 用具名称（機種名）.
    pub product_name: &'static str,
}

const fn rental(code: &'static str, name: &'static str, units: u32) -> ServiceItem {
    ServiceItem {
        code,
        name,
        units,
        minutes: 0,
    }
}

/// Rental products (福祉用具貸与).
pub const RENTAL_PRODUCTS: [RentalProduct; 5] = [
    RentalProduct {
        item: rental("171001", "車いす貸与", 500),
        tais_code: "00170-000123",
        product_name: "自走式車いす KS-50",
    },
    RentalProduct {
        item: rental("171004", "特殊寝台貸与", 1_000),
        tais_code: "00258-000041",
        product_name: "介護ベッド 3モーター",
    },
    RentalProduct {
        item: rental("171005", "特殊寝台付属品貸与", 250),
        tais_code: "00258-000107",
        product_name: "サイドレール",
    },
    RentalProduct {
        item: rental("171007", "手すり貸与", 300),
        tais_code: "00402-000015",
        product_name: "据置型手すり たちあっぷ",
    },
    RentalProduct {
        item: rental("171009", "歩行器貸与", 280),
        tais_code: "00311-000230",
        product_name: "四輪歩行車 ハッピーⅡ",
    },
];

/// Kinds of provider the generator knows, in the order it opens them.
pub const PROVIDER_KINDS: [ServiceKind; 5] = [
    ServiceKind::HOME_HELP,
    ServiceKind::DAY_CARE,
    ServiceKind::EQUIPMENT_RENTAL,
    ServiceKind::SHORT_STAY,
    ServiceKind::VISITING_NURSING,
];

/// A provider name for the `n`-th office of `kind`.
pub fn provider_name(kind: ServiceKind, n: usize) -> String {
    let (stem, suffix) = match kind.as_str() {
        "11" => ("ひまわり", "訪問介護ステーション"),
        "13" => ("つばさ", "訪問看護ステーション"),
        "15" => ("デイサービスセンター", "さくら"),
        "17" => ("福祉用具レンタル", "あおば"),
        "21" => ("ショートステイ", "わかば"),
        _ => ("", "介護サービス事業所"),
    };
    format!("{stem}{suffix}{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_and_belongs_to_its_kind() {
        let mut items: Vec<ServiceItem> = HOME_HELP.to_vec();
        items.extend([VISITING_NURSING, DAY_CARE_BATHING]);
        for level in CareLevel::ALL {
            items.extend([day_care(level), short_stay(level)]);
        }
        items.extend(RENTAL_PRODUCTS.iter().map(|p| p.item));
        for item in items {
            let kind = item.service_code().kind();
            assert!(PROVIDER_KINDS.contains(&kind), "{}", item.code);
        }
        for product in RENTAL_PRODUCTS {
            assert_eq!(product.item.service_code().kind(), ServiceKind::EQUIPMENT_RENTAL);
            assert!(product.tais_code.len() == 12 && product.tais_code.as_bytes()[5] == b'-');
        }
    }
}
