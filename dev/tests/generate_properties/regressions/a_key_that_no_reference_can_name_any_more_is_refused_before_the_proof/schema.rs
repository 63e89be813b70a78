// @generated automatically by Diesel CLI.

diesel::table! {
    posts (id, parent_id) {
        id -> Integer,
        parent_id -> Nullable<Integer>,
    }
}
