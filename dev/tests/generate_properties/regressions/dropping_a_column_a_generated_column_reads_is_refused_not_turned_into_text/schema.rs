diesel::table! { posts (rowid) { rowid -> Integer, note -> Nullable<Bool>, score -> Nullable<Double>, } }
