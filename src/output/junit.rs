//! `check --output junit`: one test suite per pod, one test case per link, so CI systems show
//! each broken link as a failed test with its finding code as the failure type.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::text::evidence;
use crate::analysis::{Finding, LinkResult, Report, Status};

/// `fail_at`: links at or above this status fail their test (`--fail-on`); `None` fails none.
pub fn render(report: &Report, fail_at: Option<Status>) -> String {
    let report = &super::safe::for_people(report);
    let mut out = quick_junit::Report::new("widiag");
    // Pods that could not be listed are a test of their own: CI must not read silence as a pass.
    if let Some(g) = report.pods_not_read() {
        let message = format!("pods not read: {} (needs {})", g.error, g.needed);
        let status = if fail_at.is_some_and(|t| Status::Unknown >= t) {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message.as_str()).set_type("not-read");
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new("pods", status);
        case.set_classname("cluster")
            .set_system_out(message.as_str());
        let mut suite = TestSuite::new("cluster");
        suite.add_test_case(case);
        out.add_test_suite(suite);
    }
    for pod in &report.pods {
        let name = pod.pod.to_string();
        let mut suite = TestSuite::new(name.as_str());
        for l in &pod.links {
            let primary = l.primary().filter(|_| l.status > Status::Skip);
            let status = match (l.status, primary) {
                (Status::Skip, _) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(l.summary.as_ref());
                    s
                }
                (st, Some(f)) if fail_at.is_some_and(|t| st >= t) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!("{} {}", f.code, f.message))
                        .set_type(f.code.as_ref())
                        .set_description(details(f));
                    s
                }
                _ => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(l.link.name(), status);
            case.set_classname(name.as_str());
            // Warnings below the threshold still reach the CI log.
            if let Some(f) = primary.filter(|_| fail_at.is_none_or(|t| l.status < t)) {
                case.set_system_out(format!("{} {}: {}", l.status.name(), f.code, f.message));
            } else if l.status == Status::Pass {
                case.set_system_out(summary(l));
            }
            suite.add_test_case(case);
        }
        out.add_test_suite(suite);
    }
    out.to_string()
        .expect("JUnit XML of plain strings serialises")
}

fn summary(l: &LinkResult) -> String {
    l.summary.lines().next().unwrap_or_default().to_string()
}

fn details(f: &Finding) -> String {
    let mut s = format!("{}\n{}\n", f.message, f.explanation);
    for e in &f.evidence {
        s.push_str(&format!("  {}\n", evidence(e)));
    }
    if let Some(fix) = &f.fix {
        s.push_str(&format!("fix: {fix}\n"));
    }
    s
}
