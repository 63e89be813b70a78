diesel::table! { users (id) { id -> Integer, name -> Nullable<Text>, } }
diesel::table! { people (id) { id -> Integer, } }
