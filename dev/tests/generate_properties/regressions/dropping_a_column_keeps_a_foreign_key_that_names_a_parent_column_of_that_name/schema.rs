diesel::table! { users (id) { id -> Integer, } }
diesel::table! { posts (rowid) { rowid -> Integer, users_id -> Integer, } }
diesel::joinable!(posts -> users (users_id));
diesel::allow_tables_to_appear_in_same_query!(users, posts,);
