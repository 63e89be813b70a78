diesel::table! { tags (title) { title -> Integer, } }
diesel::table! { items (title) { title -> Integer, } }
diesel::table! { posts (id) { id -> Integer, name -> Nullable<Text>, } }
