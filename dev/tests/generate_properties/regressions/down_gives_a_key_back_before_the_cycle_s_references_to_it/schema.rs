diesel::table! { users (id) { id -> Nullable<Integer>, posts_id -> Nullable<Integer>, } }
diesel::table! { tags (id, users_id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(users, tags, posts,);
