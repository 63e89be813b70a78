diesel::table! { people (id) { id -> Integer, name -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::joinable!(posts -> people (users_id));
