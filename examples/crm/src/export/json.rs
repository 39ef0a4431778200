//! JSON: an array of objects, one per row, keyed by column name; numbers stay numbers, empty cells
//! are `null`.

use serde_json::{Map, Value};

use super::{Cell, Table};

/// The file.
pub fn write(table: &Table) -> Vec<u8> {
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|row| {
            let mut o = Map::new();
            for (c, cell) in table.columns.iter().zip(row) {
                let v = match cell {
                    Cell::Null => Value::Null,
                    Cell::Int(i) => Value::from(*i),
                    Cell::Text(s) | Cell::Time(s) => Value::from(s.as_str()),
                };
                o.insert(c.name.to_owned(), v);
            }
            Value::Object(o)
        })
        .collect();
    // Serialising a Value built here cannot fail; an empty array is the safe answer if it ever did.
    serde_json::to_vec_pretty(&rows).unwrap_or_else(|_| b"[]".to_vec())
}
