diesel::table! { users (id) { id -> Integer, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Bool, } }
diesel::allow_tables_to_appear_in_same_query!(users, posts,);
