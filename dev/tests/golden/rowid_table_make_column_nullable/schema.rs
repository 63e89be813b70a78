// @generated automatically by Diesel CLI.

diesel::table! {
    events (rowid) {
        rowid -> Integer,
        kind -> Nullable<Text>,
        payload -> Nullable<Text>,
    }
}
