diesel::table! { users (id) { id -> Integer, name -> Nullable<Bool>, } }
diesel::table! { log (id) { id -> Integer, name -> Bool, } }
