diesel::table! { users (title) { title -> Integer, } }
diesel::table! { posts (id) { id -> Integer, name -> Nullable<Text>, } }
