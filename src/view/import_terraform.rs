//! `braid state import-terraform`: what was imported from a Terraform state, as a list for
//! people or one JSON document (docs/json-output.md). No attribute or output value is ever
//! shown: only addresses, types, providers and ids.

use serde_json::json;

use crate::ops::import_terraform::{SUPPORTED_VERSION, TerraformImport, not_served_lines};

/// The human summary.
pub fn render(report: &TerraformImport) -> String {
    let mut out = format!(
        "Terraform state: serial {}, lineage {}, written by Terraform {}.\n",
        report.serial,
        if report.lineage.is_empty() {
            "(none)"
        } else {
            &report.lineage
        },
        if report.terraform_version.is_empty() {
            "(unknown)"
        } else {
            &report.terraform_version
        }
    );
    let verb = if report.dry_run {
        "Would import"
    } else {
        "Imported"
    };
    if report.imported.is_empty() {
        out.push_str(&format!("\n{verb} no resources.\n"));
    } else {
        out.push_str(&format!(
            "\n{verb} {} resource{}:\n",
            report.imported.len(),
            plural(report.imported.len())
        ));
        let width = report
            .imported
            .iter()
            .map(|r| r.address.chars().count())
            .max()
            .unwrap_or(0);
        for r in &report.imported {
            let replaced = if report.replaced.contains(&r.address) {
                "  (replaces the record in state)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {:width$}  {}  id={}{replaced}\n",
                r.address,
                r.provider,
                r.id.as_deref().unwrap_or("-"),
            ));
        }
    }
    if !report.outputs.is_empty() {
        let names: Vec<String> = report
            .outputs
            .iter()
            .map(|o| {
                if o.sensitive {
                    format!("{} (sensitive)", o.name)
                } else {
                    o.name.clone()
                }
            })
            .collect();
        out.push_str(&format!("\nOutputs: {}\n", names.join(", ")));
    }
    if !report.null_outputs.is_empty() {
        out.push_str(&format!(
            "Outputs left out (null, which braid and Terraform do not keep): {}\n",
            report.null_outputs.join(", ")
        ));
    }
    if !report.not_served.is_empty() {
        out.push_str(&format!(
            "\nNot imported, braid does not serve them ({}):\n{}\n",
            report.not_served.len(),
            not_served_lines(&report.not_served)
        ));
    }
    if !report.missing.is_empty() {
        out.push_str(&format!(
            "\nNot imported, the objects no longer exist ({}): {}\n",
            report.missing.len(),
            report
                .missing
                .iter()
                .map(|m| m.address.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if report.data_sources > 0 {
        out.push_str(&format!(
            "\nData sources: {} (not imported; braid reads them on every plan).\n",
            report.data_sources
        ));
    }
    out.push('\n');
    if report.dry_run {
        out.push_str("Dry run: nothing was written.\n");
    } else if let Some(serial) = report.serial_after {
        out.push_str(&format!(
            "State is now at serial {serial}. Run braid plan: it shows no changes for the imported resources when the configuration matches.\n"
        ));
    } else {
        out.push_str("Nothing to write.\n");
    }
    out
}

/// The JSON document.
pub fn to_json(report: &TerraformImport) -> serde_json::Value {
    json!({
        "dry_run": report.dry_run,
        "terraform": {
            "version": SUPPORTED_VERSION,
            "terraform_version": report.terraform_version,
            "serial": report.serial,
            "lineage": report.lineage,
        },
        "imported": report.imported.iter().map(|r| json!({
            "address": r.address,
            "type": r.type_name,
            "provider": r.provider,
            "terraform_provider": r.terraform_provider,
            "id": r.id,
            "terraform_id": r.terraform_id,
            "replaced": report.replaced.contains(&r.address),
        })).collect::<Vec<_>>(),
        "not_imported": report.not_served.iter().map(|n| json!({
            "address": n.address,
            "type": n.type_name,
            "terraform_provider": n.terraform_provider,
            "reason": n.reason,
        })).collect::<Vec<_>>(),
        "missing": report.missing.iter().map(|m| json!({
            "address": m.address,
            "type": m.type_name,
            "terraform_id": m.terraform_id,
        })).collect::<Vec<_>>(),
        "data_sources": report.data_sources,
        "outputs": report.outputs.iter().map(|o| json!({
            "name": o.name,
            "sensitive": o.sensitive,
        })).collect::<Vec<_>>(),
        "serial": report.serial_after,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
