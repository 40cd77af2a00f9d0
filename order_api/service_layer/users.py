"""Users and their balance: a charge adds to the balance and writes one CHARGE balance-log row."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from order_api.adapters.orm import BalanceLog, User
from order_api.domain import errors, rules


def create_user(session: Session) -> User:
    user = User(balance=0)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int, *, for_update: bool = False) -> User:
    query = select(User).where(User.id == user_id)
    if for_update:
        query = query.with_for_update(key_share=True)
    user = session.scalars(query).one_or_none()
    if user is None:
        raise errors.UserNotFound(f"user {user_id} not found")
    return user


def get_balance(session: Session, user_id: int) -> User:
    return get_user(session, user_id)


def change_balance(session: Session, user: User, new_balance: int, code: str, ref_id: int | None) -> None:
    session.add(
        BalanceLog(
            user_id=user.id,
            code=code,
            amount=new_balance - user.balance,
            balance_before=user.balance,
            balance_after=new_balance,
            ref_id=ref_id,
        )
    )
    user.balance = new_balance


def charge(session: Session, user_id: int, amount: int) -> User:
    user = get_user(session, user_id, for_update=True)
    change_balance(session, user, rules.charged_balance(user.balance, amount), rules.BalanceLogCode.CHARGE, None)
    session.flush()
    return user
