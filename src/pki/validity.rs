//! The one expiry judgement: where a certificate stands against an evaluation time, and
//! whether it is inside a warning window. `verify`'s `expiry` step, the client-certificate
//! dates of `mtls`, the bundle findings of `inspect`, and the audit policy's `cert-expiry`
//! rule all ask here, so "expired", "not yet valid" and "days left" mean the same
//! everywhere; each caller only words the answer for its report.

use crate::clock::{days_until, UnixSeconds};
use crate::pki::describe::CertInfo;

/// A certificate's dates against a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// `notAfter` is before the time. Checked first: a certificate whose dates are inverted
    /// is reported as expired.
    Expired {
        not_after: UnixSeconds,
        days_ago: i64,
    },
    /// `notBefore` is after the time.
    NotYetValid { not_before: UnixSeconds },
    /// Inside its validity period, with whole days left until `notAfter`.
    Current {
        not_after: UnixSeconds,
        days_left: i64,
    },
}

impl Validity {
    /// Where `c` stands at `now`.
    pub fn of(c: &CertInfo, now: UnixSeconds) -> Self {
        let (not_before, not_after) = (c.raw.not_before, c.raw.not_after);
        if not_after < now {
            Self::Expired {
                not_after,
                days_ago: -days_until(not_after, now),
            }
        } else if not_before > now {
            Self::NotYetValid { not_before }
        } else {
            Self::Current {
                not_after,
                days_left: days_until(not_after, now),
            }
        }
    }

    /// Usable at the time (neither expired nor not yet valid).
    pub fn is_current(&self) -> bool {
        matches!(self, Self::Current { .. })
    }

    /// Current, but with fewer than `warn_days` whole days left.
    pub fn expiring_within(&self, warn_days: i64) -> bool {
        matches!(self, Self::Current { days_left, .. } if *days_left < warn_days)
    }
}

/// The certificate that expires first (the one an expiry warning is about).
pub fn earliest(certs: &[CertInfo]) -> Option<(usize, &CertInfo)> {
    certs
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| c.raw.not_after)
}

/// Fewer than `days` whole days left until `notAfter` at the time the certificate was
/// described (negative once expired): the audit policy's thresholds (`fail_days`,
/// `warn_days`) count an expired certificate as inside every window.
pub fn days_left_below(c: &CertInfo, days: i64) -> bool {
    c.days_left < days
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// 2026-06-01, as the judgement tests use.
    const NOW: UnixSeconds = 1_780_272_000;
    const DAY: i64 = 86_400;

    fn cert(name: &str) -> CertInfo {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name);
        let der = crate::pki::pem::read_file(&path)
            .unwrap()
            .certs
            .remove(0)
            .der;
        crate::pki::describe::describe(0, &der, NOW).unwrap()
    }

    #[test]
    fn expired_not_yet_valid_and_current() {
        // client-expired.pem: 2024-01-01 .. 2025-01-01.
        let expired = cert("client-expired.pem");
        assert_eq!(
            Validity::of(&expired, NOW),
            Validity::Expired {
                not_after: 1_735_689_600,
                days_ago: 516
            }
        );
        // server-notyet.pem: from 2100-01-01.
        let notyet = cert("server-notyet.pem");
        assert!(matches!(
            Validity::of(&notyet, NOW),
            Validity::NotYetValid {
                not_before: 4_102_444_800
            }
        ));
        // The last second is still valid; the next one is not.
        let at_end = Validity::of(&expired, 1_735_689_600);
        assert_eq!(
            at_end,
            Validity::Current {
                not_after: 1_735_689_600,
                days_left: 0
            }
        );
        assert!(!Validity::of(&expired, 1_735_689_601).is_current());
    }

    #[test]
    fn the_warning_window_counts_whole_days_left() {
        let c = cert("client-expired.pem");
        let ten_days_before = 1_735_689_600 - 10 * DAY;
        let v = Validity::of(&c, ten_days_before);
        assert!(v.expiring_within(11));
        assert!(!v.expiring_within(10));
        // Out of dates is not "expiring": the expired judgement reports it.
        assert!(!Validity::of(&c, NOW).expiring_within(i64::MAX));
        // The policy thresholds count an expired certificate inside every window.
        assert!(days_left_below(&c, 0));
    }

    #[test]
    fn the_earliest_expiry_is_the_first_of_equals() {
        let certs = [
            cert("client.pem"),
            cert("client-expired.pem"),
            cert("client-expired.pem"),
        ];
        assert_eq!(earliest(&certs).map(|(i, _)| i), Some(1));
        assert!(earliest(&[]).is_none());
    }
}
