//! The `[thresholds]` section, kept as written, in file order. Each one is
//! parsed once here to report a bad name or condition at its place in the
//! file; the report parses them again to evaluate them after the run.

use super::table::{Field, Read};

/// Reads `[thresholds]`. A dotted key written without quotes
/// (`request_chat.p99 = ...`) parses as nested tables; it is joined back
/// into one name so both spellings mean the same.
pub(crate) fn read(field: Option<Field<'_, '_>>) -> Read<Vec<(String, String)>> {
    let Some(field) = field else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    collect(&field, "", &mut out)?;
    Ok(out)
}

fn collect(field: &Field<'_, '_>, prefix: &str, out: &mut Vec<(String, String)>) -> Read<()> {
    let s = field.section_free()?;
    for (key, value) in s.entries() {
        let name = format!("{prefix}{}", key.get_ref());
        if value.value().is_table() {
            collect(&value, &format!("{name}."), out)?;
        } else {
            let condition = value
                .str()
                .map_err(|_| value.error("expected a condition string such as \"< 800ms\""))?;
            // Checked here, where the key's place in the file is known, so
            // that a typo is reported with its line and column.
            crate::report::thresholds::parse(&name, condition)
                .map_err(|err| value.key_error(format!("{err:#}")))?;
            if out.iter().any(|(n, _)| *n == name) {
                return Err(value.key_error("this threshold is written twice; keep one"));
            }
            out.push((name, condition.to_owned()));
        }
    }
    Ok(())
}
