// @generated automatically by Diesel CLI.

diesel::table! {
    audit (id) {
        id -> Integer,
        note -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        name -> Nullable<Text>,
        age -> Nullable<Integer>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(audit, users,);
