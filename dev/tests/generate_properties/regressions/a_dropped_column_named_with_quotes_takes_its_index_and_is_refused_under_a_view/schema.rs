diesel::table! { users (id) { id -> Integer, name -> Nullable<Text>, } }
