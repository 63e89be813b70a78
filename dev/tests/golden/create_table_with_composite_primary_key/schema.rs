// @generated automatically by Diesel CLI.

diesel::table! {
    post_tags (post_id, tag) {
        post_id -> Integer,
        tag -> Text,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        title -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        name -> Text,
        age -> Nullable<Integer>,
    }
}

diesel::joinable!(post_tags -> posts (post_id));
diesel::joinable!(posts -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(post_tags, posts, users,);
