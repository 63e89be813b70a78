// @generated automatically by Diesel CLI.

diesel::table! {
    people (id) {
        id -> Integer,
        name -> Text,
        age -> Nullable<Integer>,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        title -> Text,
    }
}

diesel::joinable!(posts -> people (user_id));

diesel::allow_tables_to_appear_in_same_query!(people, posts,);
